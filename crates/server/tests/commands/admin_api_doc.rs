//! The admin API's OpenAPI document (`crates/server/src/http/admin/openapi.json`,
//! served at `/admin/api/v1/openapi.json`): it names exactly the routes the
//! router has, it is a valid OpenAPI 3.1 document whose references all
//! resolve, and `docs/admin-api.md` is generated from it.
//!
//! Regenerate the reference after changing the document with
//! `SQIN_DOCS_BLESS=1 cargo test -p sqin-server --test commands admin_api_doc`.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use sqin_server::http::admin::{BASE, OPENAPI, ROUTES};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const DOC_PATH: &str = "docs/admin-api.md";
const BLESS: &str = "SQIN_DOCS_BLESS=1 cargo test -p sqin-server --test commands admin_api_doc";

/// A JSON value that keeps its members in document order (this
/// workspace's `serde_json` sorts them) and refuses duplicate members.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            if members.iter().any(|(seen, _)| *seen == k) {
                return Err(A::Error::custom(format!("duplicate member {k:?}")));
            }
            members.push((k, v));
        }
        Ok(Json::Obj(members))
    }
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }
    fn members(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(m) => m,
            _ => &[],
        }
    }
    fn items(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }
    /// The value as JSON text, for defaults and examples.
    fn text(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Num(n) => n.clone(),
            Json::Str(s) => serde_json::to_string(s).unwrap(),
            Json::Arr(a) => format!(
                "[{}]",
                a.iter().map(Json::text).collect::<Vec<_>>().join(", ")
            ),
            Json::Obj(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), v.text()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn document() -> Json {
    serde_json::from_str(OPENAPI).unwrap_or_else(|e| panic!("openapi.json is not JSON: {e}"))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The operations of the document, in document order: (method, path,
/// path item, operation).
fn operations(doc: &Json) -> Vec<(&str, &str, &Json, &Json)> {
    let mut out = Vec::new();
    for (path, item) in doc.get("paths").map(Json::members).unwrap_or_default() {
        for (method, op) in item.members() {
            if METHODS.contains(&method.as_str()) {
                out.push((method.as_str(), path.as_str(), item, op));
            }
        }
    }
    out
}

/// What a local reference (`#/components/...`) points at.
fn resolve<'a>(doc: &'a Json, reference: &str) -> Option<&'a Json> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(doc);
    }
    let mut at = doc;
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        at = match at {
            Json::Obj(_) => at.get(&token)?,
            Json::Arr(a) => a.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// `value`, or what it refers to.
fn deref<'a>(doc: &'a Json, value: &'a Json) -> &'a Json {
    match value.str("$ref") {
        Some(r) => resolve(doc, r).unwrap_or_else(|| panic!("unresolved $ref {r}")),
        None => value,
    }
}

fn collect_refs<'a>(value: &'a Json, at: &mut Vec<String>, out: &mut Vec<(String, &'a str)>) {
    match value {
        Json::Obj(members) => {
            for (k, v) in members {
                if let (true, Json::Str(r)) = (k == "$ref", v) {
                    out.push((at.join("/"), r));
                }
                at.push(k.clone());
                collect_refs(v, at, out);
                at.pop();
            }
        }
        Json::Arr(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                collect_refs(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// The parameters that apply to an operation: its path item's, then its
/// own (an operation's replaces the path item's of the same name and
/// location).
fn parameters<'a>(doc: &'a Json, item: &'a Json, op: &'a Json) -> Vec<&'a Json> {
    let mut out: Vec<&Json> = Vec::new();
    let shared = item.get("parameters").map(Json::items).unwrap_or_default();
    let own = op.get("parameters").map(Json::items).unwrap_or_default();
    for p in shared.iter().chain(own) {
        let p = deref(doc, p);
        out.retain(|q| !(q.str("name") == p.str("name") && q.str("in") == p.str("in")));
        out.push(p);
    }
    out
}

fn security<'a>(doc: &'a Json, op: &'a Json) -> &'a [Json] {
    op.get("security")
        .or_else(|| doc.get("security"))
        .map(Json::items)
        .unwrap_or_default()
}

/// Structural checks the validator does not make: every `$ref` resolves
/// (locally), every component is used, every path parameter is declared
/// and every declared one is in the path, operation ids are unique, and
/// every change made with the console's cookie documents `X-CSRF-Token`.
fn structural_problems(doc: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    let mut refs = Vec::new();
    collect_refs(doc, &mut Vec::new(), &mut refs);
    let mut used = BTreeSet::new();
    for (at, r) in &refs {
        if !r.starts_with("#/") {
            problems.push(format!("{at}: $ref {r} is not a local reference"));
        } else if resolve(doc, r).is_none() {
            problems.push(format!("{at}: $ref {r} does not resolve"));
        } else {
            used.insert((*r).to_owned());
        }
    }
    for (kind, entries) in doc.get("components").map(Json::members).unwrap_or_default() {
        if kind == "securitySchemes" {
            continue;
        }
        for (name, _) in entries.members() {
            let r = format!("#/components/{kind}/{name}");
            if !used.contains(&r) {
                problems.push(format!("{r} is never referenced"));
            }
        }
    }
    let schemes: BTreeSet<&str> = doc
        .get("components")
        .and_then(|c| c.get("securitySchemes"))
        .map(Json::members)
        .unwrap_or_default()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    let mut ids = BTreeMap::new();
    for (method, path, item, op) in operations(doc) {
        let here = format!("{} {path}", method.to_uppercase());
        match op.str("operationId") {
            Some(id) => {
                if let Some(other) = ids.insert(id.to_owned(), here.clone()) {
                    problems.push(format!("{here}: operationId {id} is also {other}'s"));
                }
            }
            None => problems.push(format!("{here}: no operationId")),
        }
        for member in ["summary", "description"] {
            if op.str(member).is_none_or(str::is_empty) {
                problems.push(format!("{here}: no {member}"));
            }
        }
        if op
            .get("responses")
            .map(Json::members)
            .unwrap_or_default()
            .is_empty()
        {
            problems.push(format!("{here}: no responses"));
        }
        let params = parameters(doc, item, op);
        let in_path: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name))
            .collect();
        let declared: BTreeSet<&str> = params
            .iter()
            .filter(|p| p.str("in") == Some("path"))
            .filter_map(|p| p.str("name"))
            .collect();
        for missing in in_path.difference(&declared) {
            problems.push(format!(
                "{here}: path parameter {{{missing}}} is not declared"
            ));
        }
        for extra in declared.difference(&in_path) {
            problems.push(format!("{here}: parameter {extra} is not in the path"));
        }
        let mut requirement_schemes = Vec::new();
        for requirement in security(doc, op) {
            for (scheme, _) in requirement.members() {
                if !schemes.contains(scheme.as_str()) {
                    problems.push(format!("{here}: unknown security scheme {scheme}"));
                }
                requirement_schemes.push(scheme.as_str());
            }
        }
        let csrf = params
            .iter()
            .any(|p| p.str("in") == Some("header") && p.str("name") == Some("X-CSRF-Token"));
        if method != "get" && requirement_schemes.contains(&"staffSession") && !csrf {
            problems.push(format!(
                "{here}: accepts the staff session cookie but does not document X-CSRF-Token"
            ));
        }
        if method == "patch"
            && !params
                .iter()
                .any(|p| p.str("in") == Some("header") && p.str("name") == Some("If-Match"))
        {
            problems.push(format!("{here}: does not document If-Match"));
        }
    }
    problems
}

// ---------------------------------------------------------------------
// The validator (an external tool, like the browser tests' Chromium).
// ---------------------------------------------------------------------

const VALIDATOR: &str = "openapi-spec-validator";

/// Whether tests that need external tools must run whatever is missing
/// (CI sets it).
fn tools_required() -> bool {
    std::env::var("SQIN_REQUIRE_TOOLS").is_ok_and(|v| v == "1" || v == "true")
}

/// `openapi-spec-validator` on `PATH`, as `command -v` finds it.
fn validator() -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(VALIDATOR))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The harness's prerequisite: the validator is installed, or the test
/// is ignored with the reason. Under `SQIN_REQUIRE_TOOLS=1` the test runs
/// (and fails, saying why, when the validator is missing).
fn validator_ready() -> Result<(), String> {
    if validator().is_some() || tools_required() {
        Ok(())
    } else {
        Err(format!(
            "{VALIDATOR} not found on PATH (apt-get install python3-openapi-spec-validator); set SQIN_REQUIRE_TOOLS=1 to make this a failure"
        ))
    }
}

// ---------------------------------------------------------------------
// The reference, docs/admin-api.md, generated from the document.
// ---------------------------------------------------------------------

/// Text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.trim()
        .replace('|', "\\|")
        .replace("\r\n", "\n")
        .replace("\n\n", "<br><br>")
        .replace('\n', " ")
}

fn ref_name(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

/// A schema's type, in words: `string`, `integer or null`, `array of
/// RelyingParty`, `string (uri)`, with its allowed values.
fn type_of(schema: &Json) -> String {
    if let Some(r) = schema.str("$ref") {
        return format!("`{}`", ref_name(r));
    }
    if let Some(all) = schema.get("allOf") {
        return all
            .items()
            .iter()
            .map(type_of)
            .collect::<Vec<_>>()
            .join(" and ");
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Json::Str(t)) => vec![t.as_str()],
        Some(Json::Arr(ts)) => ts
            .iter()
            .filter_map(|t| match t {
                Json::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut words: Vec<String> = types
        .iter()
        .map(|t| match (*t, schema.get("items")) {
            ("array", Some(items)) => format!("array of {}", type_of(items)),
            ("string", _) => match schema.str("format") {
                Some(f) => format!("string ({f})"),
                None => "string".to_owned(),
            },
            (t, _) => t.to_owned(),
        })
        .collect();
    if words.is_empty() {
        words.push("any".to_owned());
    }
    let mut out = words.join(" or ");
    if let Some(values) = schema.get("enum") {
        let values: Vec<String> = values
            .items()
            .iter()
            .map(|v| match v {
                Json::Str(s) => format!("`{s}`"),
                other => format!("`{}`", other.text()),
            })
            .collect();
        let _ = write!(out, ": {}", values.join(", "));
    }
    out
}

/// A field's description, with its default.
fn field_description(schema: &Json) -> String {
    let mut text = schema.str("description").unwrap_or_default().to_owned();
    if let Some(default) = schema.get("default") {
        let _ = write!(text, " Default: `{}`.", default.text());
    }
    cell(&text)
}

/// The fields of an object schema as a table: (name, type, required,
/// description); `allOf` members are listed as the schemas they include.
fn fields_table(doc: &Json, schema: &Json, out: &mut String) {
    let schema = deref(doc, schema);
    let mut includes = Vec::new();
    let mut rows = Vec::new();
    let mut parts = vec![schema];
    parts.extend(schema.get("allOf").map(Json::items).unwrap_or_default());
    for part in parts {
        if let Some(r) = part.str("$ref") {
            includes.push(format!("`{}`", ref_name(r)));
            continue;
        }
        let required: BTreeSet<&str> = part
            .get("required")
            .map(Json::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| match v {
                Json::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        for (name, field) in part
            .get("properties")
            .map(Json::members)
            .unwrap_or_default()
        {
            rows.push(format!(
                "| `{}` | {} | {} | {} |",
                name.replace('|', "\\|"),
                cell(&type_of(field)),
                if required.contains(name.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                field_description(field),
            ));
        }
    }
    if !includes.is_empty() {
        let _ = writeln!(out, "Every field of {}, and:\n", includes.join(", "));
    }
    if rows.is_empty() {
        out.push_str("No fields.\n\n");
        return;
    }
    out.push_str("| Field | Type | Required | Description |\n|---|---|---|---|\n");
    for row in rows {
        out.push_str(&row);
        out.push('\n');
    }
    if schema.get("additionalProperties") == Some(&Json::Bool(false)) {
        out.push_str("\nNo other member is accepted.\n");
    }
    out.push('\n');
}

fn security_words(requirements: &[Json]) -> String {
    if requirements.is_empty() {
        return "none".to_owned();
    }
    requirements
        .iter()
        .map(|r| {
            let names: Vec<String> = r.members().iter().map(|(k, _)| format!("`{k}`")).collect();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(" and ")
            }
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `docs/admin-api.md`: deterministic Markdown from the document.
fn reference(doc: &Json) -> String {
    let mut out = String::new();
    let info = doc.get("info").unwrap();
    let base = doc
        .get("servers")
        .and_then(|s| s.items().first())
        .and_then(|s| s.str("url"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<!-- Generated from crates/server/src/http/admin/openapi.json by crates/server/tests/commands/admin_api_doc.rs: do not edit. Regenerate with `{BLESS}`. -->\n"
    );
    let _ = writeln!(out, "# {}\n", info.str("title").unwrap_or_default());
    let _ = writeln!(
        out,
        "Version {}, OpenAPI {}. Paths are under `{base}`; the document itself is served at `GET {base}/openapi.json`.\n",
        info.str("version").unwrap_or_default(),
        doc.str("openapi").unwrap_or_default(),
    );
    let _ = writeln!(
        out,
        "{}\n",
        info.str("description").unwrap_or_default().trim()
    );

    out.push_str("## Authentication\n\n");
    let _ = writeln!(
        out,
        "Unless an operation says otherwise, it needs {}.\n",
        security_words(doc.get("security").map(Json::items).unwrap_or_default())
    );
    let schemes = doc
        .get("components")
        .and_then(|c| c.get("securitySchemes"))
        .map(Json::members)
        .unwrap_or_default();
    for (name, scheme) in schemes {
        let kind = match scheme.str("type") {
            Some("apiKey") => format!(
                "API key in the {} `{}`",
                scheme.str("in").unwrap_or_default(),
                scheme.str("name").unwrap_or_default()
            ),
            Some("http") => format!("HTTP `{}`", scheme.str("scheme").unwrap_or_default()),
            Some(other) => other.to_owned(),
            None => String::new(),
        };
        let _ = writeln!(out, "### `{name}`: {kind}\n");
        let _ = writeln!(
            out,
            "{}\n",
            scheme.str("description").unwrap_or_default().trim()
        );
    }

    out.push_str("## Operations\n\n| Method | Path | Summary |\n|---|---|---|\n");
    let ops = operations(doc);
    for (method, path, _, op) in &ops {
        let _ = writeln!(
            out,
            "| `{}` | `{path}` | {} |",
            method.to_uppercase(),
            cell(op.str("summary").unwrap_or_default())
        );
    }
    out.push('\n');

    for (method, path, item, op) in &ops {
        let _ = writeln!(
            out,
            "### `{} {path}`: {}\n",
            method.to_uppercase(),
            op.str("summary").unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "Operation `{}`. Authentication: {}.\n",
            op.str("operationId").unwrap_or_default(),
            security_words(security(doc, op))
        );
        let _ = writeln!(
            out,
            "{}\n",
            op.str("description").unwrap_or_default().trim()
        );

        let params = parameters(doc, item, op);
        if !params.is_empty() {
            out.push_str("**Parameters**\n\n| Name | In | Required | Type | Description |\n|---|---|---|---|---|\n");
            for p in params {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    p.str("name").unwrap_or_default(),
                    p.str("in").unwrap_or_default(),
                    if p.get("required") == Some(&Json::Bool(true)) {
                        "yes"
                    } else {
                        "no"
                    },
                    cell(&type_of(p.get("schema").unwrap_or(&Json::Null))),
                    cell(p.str("description").unwrap_or_default()),
                );
            }
            out.push('\n');
        }

        if let Some(body) = op.get("requestBody") {
            let body = deref(doc, body);
            let content = body.get("content").map(Json::members).unwrap_or_default();
            let types: Vec<String> = content.iter().map(|(t, _)| format!("`{t}`")).collect();
            let _ = writeln!(
                out,
                "**Request body** ({}{}): {}\n",
                types.join(", "),
                if body.get("required") == Some(&Json::Bool(true)) {
                    ", required"
                } else {
                    ""
                },
                body.str("description").unwrap_or_default().trim()
            );
            if let Some((_, media)) = content.first() {
                if let Some(schema) = media.get("schema") {
                    if let Some(r) = schema.str("$ref") {
                        let _ = writeln!(out, "Schema `{}`.\n", ref_name(r));
                    }
                    fields_table(doc, schema, &mut out);
                }
            }
        }

        out.push_str("**Responses**\n\n| Status | Body | Description |\n|---|---|---|\n");
        for (status, response) in op.get("responses").map(Json::members).unwrap_or_default() {
            let response = deref(doc, response);
            let bodies: Vec<String> = response
                .get("content")
                .map(Json::members)
                .unwrap_or_default()
                .iter()
                .map(|(t, media)| match media.get("schema") {
                    Some(s) => format!("`{t}`: {}", type_of(s)),
                    None => format!("`{t}`"),
                })
                .collect();
            let mut description = response.str("description").unwrap_or_default().to_owned();
            let headers: Vec<String> = response
                .get("headers")
                .map(Json::members)
                .unwrap_or_default()
                .iter()
                .map(|(h, _)| format!("`{h}`"))
                .collect();
            if !headers.is_empty() {
                let _ = write!(description, " Headers: {}.", headers.join(", "));
            }
            let _ = writeln!(
                out,
                "| {status} | {} | {} |",
                if bodies.is_empty() {
                    "none".to_owned()
                } else {
                    cell(&bodies.join("; "))
                },
                cell(&description)
            );
        }
        out.push('\n');
    }

    out.push_str("## Schemas\n\n");
    let schemas = doc
        .get("components")
        .and_then(|c| c.get("schemas"))
        .map(Json::members)
        .unwrap_or_default();
    for (name, schema) in schemas {
        let _ = writeln!(out, "### `{name}`\n");
        let _ = writeln!(
            out,
            "{}\n",
            schema.str("description").unwrap_or_default().trim()
        );
        fields_table(doc, schema, &mut out);
    }

    let headers = doc
        .get("components")
        .and_then(|c| c.get("headers"))
        .map(Json::members)
        .unwrap_or_default();
    if !headers.is_empty() {
        out.push_str("## Response headers\n\n| Header | Type | Description |\n|---|---|---|\n");
        for (name, h) in headers {
            let _ = writeln!(
                out,
                "| `{name}` | {} | {} |",
                cell(&type_of(h.get("schema").unwrap_or(&Json::Null))),
                cell(h.str("description").unwrap_or_default())
            );
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

sqin_store::sync_test!(
    fn every_route_is_in_the_openapi_document_and_nothing_else() {
        let doc = document();
        assert_eq!(
            doc.get("servers")
                .and_then(|s| s.items().first())
                .and_then(|s| s.str("url")),
            Some(BASE),
            "servers[0].url is the API's base path"
        );
        let documented: Vec<(String, String)> = operations(&doc)
            .into_iter()
            .map(|(m, p, _, _)| (m.to_owned(), p.to_owned()))
            .collect();
        let served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        let documented_set: BTreeSet<_> = documented.iter().cloned().collect();
        let served_set: BTreeSet<_> = served.iter().cloned().collect();
        let undocumented: Vec<String> = served_set
            .difference(&documented_set)
            .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
            .collect();
        let unserved: Vec<String> = documented_set
            .difference(&served_set)
            .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
            .collect();
        assert!(
            undocumented.is_empty() && unserved.is_empty(),
            "routes served but not in openapi.json: {undocumented:?}; operations in openapi.json the router does not serve: {unserved:?}"
        );
        assert_eq!(
            documented.len(),
            documented_set.len(),
            "an operation is documented twice"
        );
        // The reference follows the document's order: keep it the router's.
        assert_eq!(
            documented, served,
            "openapi.json lists the operations in the order of admin_routes!"
        );
    }
);

sqin_store::sync_test!(
    fn every_reference_in_the_openapi_document_resolves() {
        let problems = structural_problems(&document());
        assert!(
            problems.is_empty(),
            "openapi.json:\n  {}",
            problems.join("\n  ")
        );
    }
);

sqin_store::needs_test!(
    needs = validator_ready,
    async fn the_openapi_document_validates() {
        let doc = document();
        assert_eq!(doc.str("openapi"), Some("3.1.0"));
        let problems = structural_problems(&doc);
        assert!(
            problems.is_empty(),
            "openapi.json:\n  {}",
            problems.join("\n  ")
        );
        let Some(tool) = validator() else {
            panic!(
                "required (SQIN_REQUIRE_TOOLS=1) but {VALIDATOR} is not on PATH (apt-get install python3-openapi-spec-validator)"
            );
        };
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("openapi.json");
        std::fs::write(&copy, OPENAPI).unwrap();
        let out = std::process::Command::new(&tool)
            .arg(&copy)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
        assert!(
            out.status.success(),
            "{} rejects openapi.json ({}):\n{}{}",
            tool.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
);

sqin_store::sync_test!(
    fn the_admin_api_reference_is_generated_from_the_document() {
        let generated = reference(&document());
        let path = repo_root().join(DOC_PATH);
        if std::env::var("SQIN_DOCS_BLESS").is_ok_and(|v| v == "1" || v == "true") {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != generated {
            let line = on_disk
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| on_disk.lines().count().min(generated.lines().count()));
            panic!(
                "{DOC_PATH} is not what openapi.json generates (first difference at line {}); regenerate it with `{BLESS}`",
                line + 1
            );
        }
    }
);

sqin_store::sync_test!(
    fn the_structural_check_names_what_is_wrong() {
        // A small document with one of each mistake the check looks for.
        let broken = r##"{
            "openapi": "3.1.0",
            "security": [{"staffSession": []}],
            "paths": {
                "/things/{id}": {
                    "post": {
                        "operationId": "same", "summary": "s", "description": "d",
                        "responses": {"200": {"$ref": "#/components/responses/Missing"}}
                    },
                    "patch": {
                        "operationId": "same", "summary": "s", "description": "d",
                        "security": [{"nobody": []}],
                        "parameters": [{"name": "id", "in": "path", "required": true}],
                        "responses": {"200": {"description": "ok"}}
                    }
                }
            },
            "components": {
                "securitySchemes": {"staffSession": {"type": "apiKey", "in": "cookie", "name": "c"}},
                "schemas": {"Unused": {"type": "object"}}
            }
        }"##;
        let doc: Json = serde_json::from_str(broken).unwrap();
        let problems = structural_problems(&doc).join("\n");
        for expected in [
            "$ref #/components/responses/Missing does not resolve",
            "#/components/schemas/Unused is never referenced",
            "POST /things/{id}: path parameter {id} is not declared",
            "PATCH /things/{id}: operationId same is also POST /things/{id}'s",
            "PATCH /things/{id}: unknown security scheme nobody",
            "POST /things/{id}: accepts the staff session cookie but does not document X-CSRF-Token",
            "PATCH /things/{id}: does not document If-Match",
        ] {
            assert!(
                problems.contains(expected),
                "{expected:?} not found in:\n{problems}"
            );
        }
        assert!(
            serde_json::from_str::<Json>(r#"{"a": 1, "a": 2}"#).is_err(),
            "a duplicate member is refused"
        );
    }
);
