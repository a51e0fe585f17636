//! The confidentiality policy as a public page (`/privacy`), linked from
//! every page: s. 63.4 asks a public body to publish it in clear terms
//! on its website, and sqin's pages are where information is collected.
//!
//! The text is `pia/confidentiality-policy.md`, versioned with the rest of
//! the privacy impact assessment and compiled in. It is a minijinja
//! template: each `{{ deployment.… }}` is filled in from the deployment's
//! settings ([`Deployment`], the configuration's `[deployment]` table), in
//! the section's language, and every value is escaped for Markdown, so it
//! shows as written (no markup, no link, no HTML of its own). Each language
//! is its own section ("## Français", "## English"), and the page shows the
//! reader's.
//!
//! [`unfilled`] says what the policy would still show as a placeholder: a
//! setting it uses that is missing (named by its configuration key), or a
//! bracketed text such as "[contact]" left in the rendered page. A
//! non-demo `sqin serve` refuses to start unless it is empty; an unchecked
//! server (a test) shows the missing setting's key in brackets.
use std::collections::BTreeMap;
use std::sync::LazyLock;

use minijinja::Environment;
use pulldown_cmark::{html, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::{json, Value};
use sqin_app::deployment::{effective_date, Deployment, Text};

use super::i18n::Locale;

/// The policy's template as versioned in `pia/`.
pub const POLICY_TEMPLATE: &str = include_str!("../../../../pia/confidentiality-policy.md");

/// Each language's heading in the template.
const SECTIONS: [(Locale, &str); 2] = [(Locale::Fr, "## Français"), (Locale::En, "## English")];

/// The two sections as templates, parsed once from the compiled-in text
/// (a section that does not parse is reported by [`unfilled`]).
static TEMPLATES: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_formatter(|out, _state, value| {
        let text = match value.as_str() {
            Some(s) => s.to_owned(),
            None if value.is_undefined() || value.is_none() => String::new(),
            None => value.to_string(),
        };
        out.write_str(&markdown_text(&text))
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    for (locale, heading) in SECTIONS {
        env.add_template(locale.tag(), section(POLICY_TEMPLATE, heading))
            .map_err(|e| format!("pia/confidentiality-policy.md ({heading}): {e:#}"))?;
    }
    Ok(env)
});

/// `text` as Markdown that shows it as written: every ASCII punctuation
/// character escaped, and on one line (a value cannot start a list, a
/// heading, a link or raw HTML).
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for c in word.chars() {
            if c.is_ascii_punctuation() {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// The text from `heading` (excluded) to the next second-level heading or
/// separator.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let Some(start) = text.find(heading).map(|i| i + heading.len()) else {
        return "";
    };
    let rest = text.get(start..).unwrap_or_default();
    let end = ["\n## ", "\n---"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

/// One level up (`###` becomes `<h2>`): a section's headings sit under
/// the page's own `<h1>` with no level skipped.
fn up(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 | HeadingLevel::H3 => HeadingLevel::H2,
        HeadingLevel::H4 => HeadingLevel::H3,
        HeadingLevel::H5 => HeadingLevel::H4,
        HeadingLevel::H6 => HeadingLevel::H5,
    }
}

/// Markdown to HTML, with any raw HTML in the source shown as text (the
/// policy is edited by people, not by the page).
fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: up(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(up(level))),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// A date as people write it: "1er mars 2027", "1 March 2027".
fn date_words(date: &str, locale: Locale) -> Option<String> {
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (year, month, day) = effective_date(date)?;
    let index = usize::from(month).checked_sub(1)?;
    Some(match locale {
        Locale::Fr if day == 1 => format!("1er {} {year}", FR.get(index)?),
        Locale::Fr => format!("{day} {} {year}", FR.get(index)?),
        Locale::En => format!("{day} {} {year}", EN.get(index)?),
    })
}

/// A setting in `locale`, trimmed; empty when unset.
fn text(value: &Option<Text>, locale: Locale) -> String {
    value
        .as_ref()
        .map(|t| t.get(locale.tag()).trim().to_owned())
        .unwrap_or_default()
}

/// The template's variables in `locale`: the configuration's `deployment`
/// table, each text in that language, the date in words; an unset value
/// is an empty string.
fn context(d: &Deployment, locale: Locale) -> Value {
    let t = |value: &Option<Text>| text(value, locale);
    let s = |value: &Option<String>| value.as_deref().unwrap_or_default().trim().to_owned();
    let po = &d.privacy_officer;
    let contacts = &d.contacts;
    let suppliers: Vec<Value> = d
        .suppliers
        .iter()
        .map(|x| {
            json!({
                "name": x.name.get(locale.tag()).trim(),
                "service": x.service.get(locale.tag()).trim(),
                "location": x.location.get(locale.tag()).trim(),
            })
        })
        .collect();
    json!({ "deployment": {
        "site_name": t(&d.site_name),
        "public_body": { "name": t(&d.public_body.name) },
        "register": { "name": t(&d.register.name), "holder": t(&d.register.holder) },
        "privacy_officer": {
            "name": t(&po.name),
            "title": t(&po.title),
            "address": t(&po.address),
            "email": s(&po.email),
            "phone": s(&po.phone),
        },
        "policy": {
            "effective": d.policy.effective.as_deref()
                .and_then(|date| date_words(date, locale))
                .unwrap_or_default(),
            "version": s(&d.policy.version),
        },
        "contacts": {
            "support": t(&contacts.support),
            "complaints_email": s(&contacts.complaints_email),
            "complaints_address": t(&contacts.complaints_address),
            "commission": t(&contacts.commission),
        },
        "governance_url": s(&d.governance_url),
        "alternatives": t(&d.alternatives),
        "minors": t(&d.minors),
        "suppliers": suppliers,
    }})
}

/// One language's section, rendered, with what it would show unfilled.
struct Section {
    html: String,
    /// The settings it uses that are unset, by key.
    missing: Vec<String>,
    /// Bracketed texts left in the page (the missing settings' included).
    brackets: Vec<String>,
    /// Variables that are no setting, or a template that does not render.
    broken: Vec<String>,
}

fn render_section(d: &Deployment, locale: Locale) -> Section {
    let mut section = Section {
        html: String::new(),
        missing: Vec::new(),
        brackets: Vec::new(),
        broken: Vec::new(),
    };
    let template = match TEMPLATES.as_ref() {
        Ok(env) => env.get_template(locale.tag()).map_err(|e| format!("{e:#}")),
        Err(e) => Err(e.clone()),
    };
    let template = match template {
        Ok(t) => t,
        Err(e) => {
            section.broken.push(e);
            return section;
        }
    };
    let mut ctx = context(d, locale);
    let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
    used.sort();
    for path in used {
        let pointer = format!("/{}", path.replace('.', "/"));
        match ctx.pointer_mut(&pointer) {
            Some(Value::String(v)) if v.is_empty() => {
                *v = format!("[{path}]");
                section.missing.push(path);
            }
            Some(_) => {}
            None => section.broken.push(format!(
                "the policy template uses `{path}`, which is no deployment setting"
            )),
        }
    }
    match template.render(&ctx) {
        Ok(markdown) => section.html = render(&markdown),
        Err(e) => section
            .broken
            .push(format!("pia/confidentiality-policy.md: {e:#}")),
    }
    section.brackets = brackets(&section.html);
    section
}

/// The bracketed texts of `html` that look like a placeholder ("[date]",
/// "[deployment.contacts.support]"): on one line, no markup inside.
fn brackets(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('[') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find([']', '[', '<', '>', '\n']) else {
            break;
        };
        if after.get(close..close + 1) == Some("]") && (1..=120).contains(&close) {
            let inner = after.get(..close).unwrap_or_default().to_owned();
            if !found.contains(&inner) {
                found.push(inner);
            }
        }
        rest = after;
    }
    found
}

/// The policy's HTML in `locale`, filled in from `deployment`.
pub fn policy_html(deployment: &Deployment, locale: Locale) -> String {
    render_section(deployment, locale).html
}

/// What the policy (or the pages' layout) would still show as a
/// placeholder under `deployment`, one line each: a setting missing (its
/// key, and the language when only one is missing), a bracketed text left
/// in the template, a template that does not render. Empty: nothing.
pub fn unfilled(deployment: &Deployment) -> Vec<String> {
    let mut settings: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    let mut others: Vec<String> = Vec::new();
    for (locale, _) in SECTIONS {
        let section = render_section(deployment, locale);
        let mut keys = section.missing;
        // The layout shows the site's name on every page.
        if text(&deployment.site_name, locale).is_empty() {
            keys.push("deployment.site_name".into());
        }
        for found in section.brackets {
            if found.starts_with("deployment.") {
                keys.push(found);
            } else {
                let line = format!(
                    "\u{201c}[{found}]\u{201d}, a placeholder the policy would show \
                     (left in pia/confidentiality-policy.md, or brackets in a setting)"
                );
                if !others.contains(&line) {
                    others.push(line);
                }
            }
        }
        for key in keys {
            let langs = settings.entry(key).or_default();
            if !langs.contains(&locale.tag()) {
                langs.push(locale.tag());
            }
        }
        for line in section.broken {
            if !others.contains(&line) {
                others.push(line);
            }
        }
    }
    settings
        .into_iter()
        .map(|(key, langs)| {
            if langs.len() == SECTIONS.len() {
                format!("`{key}`")
            } else {
                format!("`{key}` ({})", langs.join(", "))
            }
        })
        .chain(others)
        .collect()
}

/// The site's name in `locale`, for the layout ("sqin" while unset).
pub fn site_name(deployment: &Deployment, locale: Locale) -> String {
    let name = text(&deployment.site_name, locale);
    if name.is_empty() {
        "sqin".to_owned()
    } else {
        name
    }
}

/// The public body's name in `locale`, for the layout's footer.
pub fn public_body(deployment: &Deployment, locale: Locale) -> Option<String> {
    Some(text(&deployment.public_body.name, locale)).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_render_and_raw_html_is_shown_as_text() {
        let demo = Deployment::demo();
        let fr = policy_html(&demo, Locale::Fr);
        let en = policy_html(&demo, Locale::En);
        // The page's h1 is the title; the sections' headings follow it.
        assert!(fr.contains("<h2>Qui sommes-nous?</h2>"), "{fr}");
        assert!(!fr.contains("<h3>Qui"));
        assert!(!fr.contains("Who we are"));
        assert!(en.contains("<h2>Who we are</h2>"), "{en}");
        assert!(!en.contains("Qui sommes-nous"));
        assert_eq!(
            render("<script>x</script>"),
            "&lt;script&gt;x&lt;/script&gt;"
        );
    }

    #[test]
    fn the_demo_fills_every_placeholder() {
        let demo = Deployment::demo();
        assert_eq!(unfilled(&demo), Vec::<String>::new());
        let fr = policy_html(&demo, Locale::Fr);
        assert!(fr.contains("Ministère de la Démonstration"), "{fr}");
        assert!(fr.contains("23 novembre 2026"), "{fr}");
        assert!(fr.contains("Imprimerie Fictive inc."), "{fr}");
        let en = policy_html(&demo, Locale::En);
        assert!(en.contains("23 November 2026"), "{en}");
        assert!(en.contains("prp@demo.invalid"), "{en}");
        assert!(
            en.contains("<a href=\"https://gouvernance.demo.invalid/sqin\">"),
            "{en}"
        );
        assert!(brackets(&fr).is_empty() && brackets(&en).is_empty());
    }

    #[test]
    fn each_missing_setting_is_named_by_its_key() {
        let missing = unfilled(&Deployment::default());
        for key in [
            "`deployment.site_name`",
            "`deployment.public_body.name`",
            "`deployment.register.holder`",
            "`deployment.privacy_officer.email`",
            "`deployment.policy.effective`",
            "`deployment.contacts.commission`",
            "`deployment.governance_url`",
            "`deployment.suppliers`",
        ] {
            assert!(missing.iter().any(|m| m == key), "{key}: {missing:?}");
        }
        let html = policy_html(&Deployment::default(), Locale::En);
        assert!(html.contains("[deployment.public_body.name]"), "{html}");

        let mut one_language = Deployment::demo();
        one_language.public_body.name = Some(Text::Each {
            fr: "Ministère".into(),
            en: " ".into(),
        });
        one_language.privacy_officer.phone = None;
        one_language.suppliers.clear();
        assert_eq!(
            unfilled(&one_language),
            [
                "`deployment.privacy_officer.phone`",
                "`deployment.public_body.name` (en)",
                "`deployment.suppliers`",
            ]
        );
    }

    #[test]
    fn values_show_as_written_and_a_bracket_in_one_is_reported() {
        let mut d = Deployment::demo();
        d.public_body.name = Some(Text::Same(
            "<b>Body</b> & [x](javascript:alert(1)) *em*\n\n# h".into(),
        ));
        let html = policy_html(&d, Locale::En);
        assert!(
            html.contains("&lt;b&gt;Body&lt;/b&gt; &amp; [x](javascript:alert(1)) *em* # h"),
            "{html}"
        );
        assert!(!html.contains("<b>") && !html.contains("javascript:alert(1)\""));
        assert_eq!(
            unfilled(&d),
            ["\u{201c}[x]\u{201d}, a placeholder the policy would show \
              (left in pia/confidentiality-policy.md, or brackets in a setting)"]
        );
        assert_eq!(
            brackets("a [date] b [x <i>] [] [contact]"),
            ["date", "contact"]
        );
        assert_eq!(
            date_words("2027-03-01", Locale::Fr).unwrap(),
            "1er mars 2027"
        );
        assert_eq!(
            date_words("2027-03-01", Locale::En).unwrap(),
            "1 March 2027"
        );
    }
}
