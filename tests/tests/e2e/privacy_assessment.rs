//! `/privacy/assessment`: the privacy impact assessment the server runs
//! under (its adopted `pia_file`), as the self-contained document of
//! `sqin pia render --html`, in French and in English by the site's language
//! negotiation, under the same Content-Security-Policy as every page (its
//! stylesheet linked, not inline), and linked from `/privacy`.
use sqin_pia::Inventory;
use sqin_tests::{both_backends, ministries_pia, TestServer};

fn adopted() -> Inventory {
    let text = std::fs::read_to_string(ministries_pia()).unwrap();
    sqin_pia::Pia::from_toml_str(&text, std::path::Path::new("."))
        .unwrap()
        .inventory()
        .clone()
}

const CSP: &str = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

both_backends!(
    async fn the_assessment_is_served_in_french_and_english(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        let client = server.client();
        let inv = adopted();
        for (query, accept, lang, title) in [
            (
                "?lang=fr",
                "en",
                "fr",
                "Évaluation des facteurs relatifs à la vie privée",
            ),
            ("?lang=en", "fr", "en", "Privacy impact assessment"),
            // No choice made: the browser's Accept-Language decides.
            ("", "en-CA,en;q=0.9", "en", "Privacy impact assessment"),
            (
                "",
                "fr-CA",
                "fr",
                "Évaluation des facteurs relatifs à la vie privée",
            ),
        ] {
            let r = client
                .get(server.url(&format!("/privacy/assessment{query}")))
                .header("accept-language", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{query} {accept}");
            assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
            assert_eq!(r.headers()["content-language"], lang);
            // The CSP of every other page, not loosened for this one.
            assert_eq!(r.headers()["content-security-policy"], CSP);
            let html = r.text().await.unwrap();
            assert!(html.starts_with("<!DOCTYPE html>"), "{query}");
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{query}");
            assert!(html.contains(title), "{query}");
            // Styled by a linked stylesheet (no inline style under the
            // CSP), no script, and the diagram inline.
            assert!(html.contains("<link rel=\"stylesheet\" href=\"/privacy/assessment.css\">"));
            assert!(
                !html.contains("<style") && !html.contains("<script") && !html.contains(" style=")
            );
            assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
            // The adopted inventory: every element, and the ministries'
            // relying parties with each of their claims on an arrow.
            for e in &inv.elements {
                assert!(html.contains(&format!("id=\"e-{}\"", e.id)), "{}", e.id);
            }
            for rp in &inv.relying_parties {
                assert!(
                    html.contains(&format!("data-rp=\"{}\"", rp.id)),
                    "{}",
                    rp.id
                );
                let purpose = if lang == "fr" {
                    &rp.purpose_fr
                } else {
                    &rp.purpose
                };
                assert!(html.contains(&sqin_pia::html::esc(purpose)), "{}", rp.id);
            }
            assert!(html.contains("Carte santé"));
            let other = if lang == "fr" { "en" } else { "fr" };
            assert!(html.contains(&format!("href=\"/privacy/assessment?lang={other}\"")));
        }

        // Its stylesheet, from the same origin.
        let r = client
            .get(server.url("/privacy/assessment.css"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
        assert_eq!(r.text().await.unwrap(), sqin_pia::html::CSS);

        // Linked from the confidentiality policy, in each language.
        for (lang, words) in [
            ("fr", "L'évaluation des facteurs"),
            ("en", "privacy impact assessment"),
        ] {
            let r = client
                .get(server.url(&format!("/privacy?lang={lang}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let page = r.text().await.unwrap();
            assert!(page.contains("<a href=\"/privacy/assessment\">"), "{page}");
            assert!(
                page.contains(words) || page.contains(&words.replace('\'', "&#39;")),
                "{page}"
            );
        }
        server.stop().await;
    }
);
