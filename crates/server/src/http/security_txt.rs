//! `/.well-known/security.txt` (RFC 9116): how to report a vulnerability
//! to the body that runs this deployment, from its configuration
//! (`security_contact`, `security_expires`, `security_policy`,
//! `security_languages`). Unconfigured, the route answers 404 like any
//! unknown path: a deployment publishes no file rather than one that sends
//! reports nowhere. `Config::validate` checks the values, and `sqin serve`
//! refuses to start with an expired file (except the demo).
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use time::format_description::well_known::Rfc3339;

use super::AppState;
use crate::config::Config;

/// Where RFC 9116 puts the file.
pub const PATH: &str = "/.well-known/security.txt";

pub fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(security_txt))
}

async fn security_txt(State(state): State<AppState>) -> Response {
    match render(&state.config) {
        Some(body) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response(),
        None => super::ops::not_found().await,
    }
}

/// The file's text, or `None` when the deployment configured none (no
/// contact, or no expiry: RFC 9116 requires both fields).
pub fn render(config: &Config) -> Option<String> {
    if config.security_contact.is_empty() {
        return None;
    }
    let expires = config.security_expires_at()?.format(&Rfc3339).ok()?;
    let mut out = String::from("# Reporting a vulnerability in this sign-in service (RFC 9116).\n");
    for contact in &config.security_contact {
        out.push_str(&format!("Contact: {}\n", contact.trim()));
    }
    out.push_str(&format!("Expires: {expires}\n"));
    if let Some(policy) = &config.security_policy {
        out.push_str(&format!("Policy: {}\n", policy.trim()));
    }
    if !config.security_languages.is_empty() {
        let languages: Vec<&str> = config.security_languages.iter().map(|l| l.trim()).collect();
        out.push_str(&format!("Preferred-Languages: {}\n", languages.join(", ")));
    }
    // Canonical only where this file is the one at the domain's root.
    if config.issuer.scheme() == "https" && matches!(config.issuer.path(), "" | "/") {
        out.push_str(&format!(
            "Canonical: {}{PATH}\n",
            config.issuer.origin().ascii_serialization()
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured() -> Config {
        Config {
            issuer: url::Url::parse("https://id.gouv.example").unwrap(),
            security_contact: vec![
                "mailto:security@gouv.example".into(),
                "https://gouv.example/report".into(),
            ],
            security_expires: Some("2030-01-01T00:00:00+01:00".into()),
            security_policy: Some("https://gouv.example/security-policy".into()),
            security_languages: vec!["fr".into(), "en".into()],
            ..Config::default()
        }
    }

    #[test]
    fn security_txt_has_the_rfc_9116_fields() {
        let text = render(&configured()).unwrap();
        assert_eq!(
            text,
            "# Reporting a vulnerability in this sign-in service (RFC 9116).\n\
             Contact: mailto:security@gouv.example\n\
             Contact: https://gouv.example/report\n\
             Expires: 2029-12-31T23:00:00Z\n\
             Policy: https://gouv.example/security-policy\n\
             Preferred-Languages: fr, en\n\
             Canonical: https://id.gouv.example/.well-known/security.txt\n"
        );
    }

    #[test]
    fn no_security_txt_without_contact_or_expiry() {
        assert_eq!(render(&Config::default()), None);
        let c = Config {
            security_expires: None,
            ..configured()
        };
        assert_eq!(render(&c), None);
        let c = Config {
            security_contact: Vec::new(),
            ..configured()
        };
        assert_eq!(render(&c), None);
    }

    #[test]
    fn security_txt_canonical_only_at_an_https_root() {
        let c = Config {
            issuer: url::Url::parse("http://localhost:8080").unwrap(),
            ..configured()
        };
        assert!(!render(&c).unwrap().contains("Canonical"));
        let c = Config {
            issuer: url::Url::parse("https://gouv.example/id").unwrap(),
            ..configured()
        };
        assert!(!render(&c).unwrap().contains("Canonical"));
    }
}
