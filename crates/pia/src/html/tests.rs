//! The HTML assessment, parsed with a real HTML parser (html5ever, through
//! `scraper`): no parse error, every inventory element in it, and an arrow
//! in its diagram for every relying party and claim.
use std::path::Path;

use scraper::{Html, Selector};

use super::*;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The repository's inventory with the test ministries' relying parties
/// (tests/fixtures/ministries.toml): more services, one of them public.
fn with_ministries() -> Inventory {
    let mut text = std::fs::read_to_string(repo().join("pia/inventory.toml")).unwrap();
    text.push_str(&std::fs::read_to_string(repo().join("tests/fixtures/ministries.toml")).unwrap());
    toml::from_str(&text).unwrap()
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Parses `html` as a browser would and fails on any parse error.
fn parse_valid(html: &str) -> Html {
    let doc = Html::parse_document(html);
    assert!(
        doc.errors.is_empty(),
        "HTML parse errors: {:#?}",
        doc.errors
    );
    doc
}

fn text_of(el: scraper::ElementRef<'_>) -> String {
    el.text().collect::<String>()
}

#[test]
fn the_html_render_contains_every_element_and_is_valid_html() {
    let inv = with_ministries();
    assert!(inv.relying_parties.len() > 2);
    for lang in [Lang::Fr, Lang::En] {
        let html = render(&inv, lang, &Style::Inline);
        let doc = parse_valid(&html);
        let root = doc.root_element();
        assert_eq!(root.value().attr("lang"), Some(lang.tag()));
        // Structure: one title, one h1, the version header, every section.
        assert_eq!(doc.select(&sel("head > title")).count(), 1);
        assert_eq!(doc.select(&sel("h1")).count(), 1);
        let header = text_of(doc.select(&sel("header.version")).next().unwrap());
        assert!(header.contains(&inv.meta.revision), "{header}");
        assert!(header.contains(&inv.meta.updated), "{header}");
        for id in [
            "summary",
            "dataflow",
            "purposes",
            "inventory",
            "elements",
            "roles",
            "retention",
            "scopes",
            "relying-parties",
            "processors",
            "risks",
            "controls",
            "consultations",
        ] {
            assert_eq!(
                doc.select(&sel(&format!("h2#{id}"))).count(),
                1,
                "section {id}"
            );
            assert_eq!(
                doc.select(&sel(&format!("nav a[href=\"#{id}\"]"))).count(),
                1,
                "{id}"
            );
        }
        // Every element: a row of the inventory table linking to its
        // section, the section itself, and a row of the access matrix.
        let rows: Vec<String> = doc
            .select(&sel("h2#inventory + table tbody tr td:first-child code"))
            .map(text_of)
            .collect();
        assert_eq!(
            rows,
            inv.elements
                .iter()
                .map(|e| e.id.clone())
                .collect::<Vec<_>>()
        );
        for e in &inv.elements {
            let section = doc
                .select(&sel(&format!(
                    "section.element[id=\"{}\"] h3",
                    anchor(&e.id)
                )))
                .next()
                .unwrap_or_else(|| panic!("no section for {}", e.id));
            assert_eq!(text_of(section), e.id);
            assert!(html.contains(&format!("href=\"#{}\"", anchor(&e.id))));
            assert!(html.contains(&esc(&e.retention)), "{}", e.id);
        }
        // Every relying party with its claims, roles, purposes, obligations.
        let rp_text: String = doc
            .select(&sel("h2#relying-parties ~ table"))
            .map(text_of)
            .collect();
        for rp in &inv.relying_parties {
            // Named in the document's language.
            let name = if lang == Lang::Fr && !rp.name_fr.is_empty() {
                &rp.name_fr
            } else {
                &rp.name
            };
            assert!(rp_text.contains(name.as_str()), "{}", rp.id);
            for c in &rp.claims {
                assert!(rp_text.contains(c.as_str()), "{} {c}", rp.id);
            }
            let purpose = if lang == Lang::Fr {
                &rp.purpose_fr
            } else {
                &rp.purpose
            };
            assert!(html.contains(&text(purpose)), "{}: {purpose}", rp.id);
        }
        for r in &inv.roles {
            assert!(html.contains(&text(&r.name)), "{}", r.id);
        }
        for p in &inv.purposes {
            assert!(html.contains(&text(&p.title)), "{}", p.id);
        }
        for o in &inv.obligations {
            assert!(html.contains(&esc(&o.test)), "row {}", o.row);
        }
        // Self-contained: inline CSS, no script, nothing fetched.
        assert_eq!(doc.select(&sel("head > style")).count(), 1);
        assert_eq!(
            doc.select(&sel("script, link, img, iframe, object, embed"))
                .count(),
            0
        );
        assert_eq!(doc.select(&sel("[style]")).count(), 0, "no style attribute");
        for a in doc.select(&sel("a[href]")) {
            let href = a.value().attr("href").unwrap();
            assert!(href.starts_with('#'), "a link out of the document: {href}");
        }
        assert!(!html.contains("<script"));
        // The same inventory renders the same bytes.
        assert_eq!(render(&inv, lang, &Style::Inline), html);
    }
}

#[test]
fn the_svg_has_an_arrow_for_every_relying_party_and_claim() {
    let inv = with_ministries();
    let html = render(&inv, Lang::En, &Style::Inline);
    let doc = parse_valid(&html);
    let svgs: Vec<_> = doc.select(&sel("figure svg")).collect();
    assert_eq!(svgs.len(), 1);
    let svg = svgs[0];
    assert!(svg.value().attr("viewBox").is_some());
    assert_eq!(svg.select(&sel("marker#df-arrow")).count(), 1);
    let arrows: Vec<_> = svg.select(&sel("g.disclosure")).collect();
    for rp in &inv.relying_parties {
        let to_rp: Vec<_> = arrows
            .iter()
            .filter(|g| g.value().attr("data-rp") == Some(rp.id.as_str()))
            .collect();
        assert!(!to_rp.is_empty(), "no arrow to {}", rp.id);
        for claim in &rp.claims {
            let arrow = to_rp
                .iter()
                .find(|g| {
                    g.value()
                        .attr("data-claims")
                        .is_some_and(|c| c.split(' ').any(|x| x == claim))
                })
                .unwrap_or_else(|| panic!("no arrow carries {claim} to {}", rp.id));
            // Drawn, with the claim written on it.
            assert_eq!(arrow.select(&sel("path[marker-end]")).count(), 1);
            let label: String = arrow.select(&sel("text")).map(text_of).collect();
            assert!(label.contains(claim.as_str()), "{}: {label}", rp.id);
        }
        // Nothing beyond its claims.
        for g in &to_rp {
            for c in g.value().attr("data-claims").unwrap().split(' ') {
                assert!(rp.claims.iter().any(|x| x == c), "{} gets {c}", rp.id);
            }
        }
    }
    // Each source, store and staff role is a node; each element reaches its store.
    let node_text: String = svg.select(&sel("g.node.store")).map(text_of).collect();
    for e in &inv.elements {
        assert!(node_text.contains(&e.id), "{} in no store", e.id);
        let collected = svg.select(&sel("g.collection")).any(|g| {
            g.value()
                .attr("data-elements")
                .is_some_and(|l| l.split(' ').any(|x| x == e.id))
        });
        assert!(collected, "no arrow brings {}", e.id);
    }
    let roles: Vec<&str> = svg
        .select(&sel("g.access"))
        .filter_map(|g| g.value().attr("data-role"))
        .collect();
    for r in &inv.roles {
        let has_access = inv
            .elements
            .iter()
            .any(|e| e.roles.iter().any(|a| a.role == r.id));
        let shown = matches!(r.kind, RoleKind::Staff | RoleKind::Oversight) && has_access;
        assert_eq!(roles.contains(&r.id.as_str()), shown, "role {}", r.id);
    }
    assert!(roles.contains(&"support") && roles.contains(&"commission-reviewer"));
    // Presentation attributes only: renders under a CSP without inline styles.
    assert_eq!(svg.select(&sel("style, [style], script")).count(), 0);
}

#[test]
fn every_text_is_escaped() {
    let mut inv = with_ministries();
    let hostile = "<script>alert(1)</script> & \"quoted\" 'x' <b>";
    inv.meta.title = hostile.into();
    inv.elements[0].description = hostile.into();
    inv.elements[0].source = hostile.into();
    inv.relying_parties[0].name = hostile.into();
    inv.relying_parties[0].purpose_fr = hostile.into();
    inv.roles[1].name = hostile.into();
    for lang in [Lang::Fr, Lang::En] {
        let html = render(&inv, lang, &Style::Inline);
        let doc = parse_valid(&html);
        assert_eq!(doc.select(&sel("script, b")).count(), 0);
        assert!(html.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;x&#39;"
        ));
        assert!(!html.contains("<script>"));
    }
}

#[test]
fn both_languages_and_the_served_form() {
    let inv = with_ministries();
    let fr = render(&inv, Lang::Fr, &Style::Inline);
    let en = render(&inv, Lang::En, &Style::Inline);
    assert!(fr.contains("Évaluation des facteurs relatifs à la vie privée"));
    assert!(fr.contains("Inventaire des renseignements personnels"));
    assert!(fr.contains("Services (parties utilisatrices)"));
    assert!(!fr.contains(">Relying parties<"));
    assert!(en.contains("Privacy impact assessment"));
    assert!(en.contains("Inventory of personal information"));
    assert!(!en.contains("Inventaire des renseignements"));
    // Closed vocabularies are translated.
    assert!(fr.contains("élevée") && fr.contains("identité"));
    // Served: the stylesheet linked (the site's CSP forbids inline styles)
    // and the other language linked; still valid, still no script.
    let served = render(
        &inv,
        Lang::En,
        &Style::Served {
            stylesheet: "/privacy/assessment.css",
            other_language: "/privacy/assessment?lang=fr",
        },
    );
    let doc = parse_valid(&served);
    assert_eq!(doc.select(&sel("style, script, [style]")).count(), 0);
    let link = doc
        .select(&sel("head > link[rel=stylesheet]"))
        .next()
        .unwrap();
    assert_eq!(link.value().attr("href"), Some("/privacy/assessment.css"));
    let other = doc.select(&sel("a[hreflang=fr]")).next().unwrap();
    assert_eq!(
        other.value().attr("href"),
        Some("/privacy/assessment?lang=fr")
    );
    assert_eq!(Lang::parse("fr-CA"), Some(Lang::Fr));
    assert_eq!(Lang::parse("EN"), Some(Lang::En));
    assert_eq!(Lang::parse("de"), None);
}

#[test]
fn duration_words_in_french() {
    let d = |s: &str| s.parse::<IsoDuration>().unwrap();
    assert_eq!(duration_words(&d("P1Y6M"), Lang::Fr), "1 an 6 mois");
    assert_eq!(duration_words(&d("P5Y"), Lang::Fr), "5 ans");
    assert_eq!(duration_words(&d("PT1H"), Lang::Fr), "1 heure");
    assert_eq!(duration_words(&d("P30D"), Lang::En), "30 days");
}

#[test]
fn risks_are_listed_with_their_controls_and_tests() {
    let mut text = std::fs::read_to_string(repo().join("pia/inventory.toml")).unwrap();
    text.push_str(
        "\n[[risk]]\nid = \"R90\"\ntitle = \"A <test> risk\"\nlikelihood = 3\nimpact = 4\nmeasures = \"Sealed records.\"\nresidual_likelihood = 1\nresidual_impact = 4\ncontrol = \"crates/store/src/vault.rs\"\ntest = \"tests/tests/e2e/register_at_rest.rs::a_copy_shows_nothing\"\nstatus = \"mitigated\"\n",
    );
    let inv: Inventory = toml::from_str(&text).unwrap();
    for lang in [Lang::Fr, Lang::En] {
        let html = render(&inv, lang, &Style::Inline);
        let doc = parse_valid(&html);
        let table: String = doc
            .select(&sel("h2#risks + p + table"))
            .map(text_of)
            .collect();
        for needle in [
            "R90",
            "A <test> risk",
            "3 × 4 = 12",
            "1 × 4 = 4",
            "crates/store/src/vault.rs",
            "tests/tests/e2e/register_at_rest.rs::a_copy_shows_nothing",
        ] {
            assert!(table.contains(needle), "{needle} not in {table}");
        }
        assert!(table.contains(if lang == Lang::Fr {
            "atténué"
        } else {
            "mitigated"
        }));
    }
}
