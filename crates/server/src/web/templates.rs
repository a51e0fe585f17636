//! The page templates, compiled into the binary.
use std::sync::LazyLock;

use minijinja::Environment;

/// Every template: name and source. The layout first.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("enrol.html", include_str!("../../templates/enrol.html")),
    (
        "enrol_minor.html",
        include_str!("../../templates/enrol_minor.html"),
    ),
    (
        "register.html",
        include_str!("../../templates/register.html"),
    ),
    ("account.html", include_str!("../../templates/account.html")),
    (
        "remove_last.html",
        include_str!("../../templates/remove_last.html"),
    ),
    (
        "account_close.html",
        include_str!("../../templates/account_close.html"),
    ),
    (
        "account_closed.html",
        include_str!("../../templates/account_closed.html"),
    ),
    (
        "ledger_recipients.html",
        include_str!("../../templates/ledger_recipients.html"),
    ),
    (
        "ledger_staff.html",
        include_str!("../../templates/ledger_staff.html"),
    ),
    ("consent.html", include_str!("../../templates/consent.html")),
    (
        "signin_error.html",
        include_str!("../../templates/signin_error.html"),
    ),
    ("logout.html", include_str!("../../templates/logout.html")),
    ("privacy.html", include_str!("../../templates/privacy.html")),
    (
        "complaints.html",
        include_str!("../../templates/complaints.html"),
    ),
    (
        "corrections.html",
        include_str!("../../templates/corrections.html"),
    ),
    (
        "public_complaint.html",
        include_str!("../../templates/public_complaint.html"),
    ),
    (
        "public_complaint_filed.html",
        include_str!("../../templates/public_complaint_filed.html"),
    ),
    (
        "complaint_status.html",
        include_str!("../../templates/complaint_status.html"),
    ),
    (
        "staff_corrections.html",
        include_str!("../../templates/staff_corrections.html"),
    ),
    (
        "staff_correction.html",
        include_str!("../../templates/staff_correction.html"),
    ),
    (
        "staff_nav.html",
        include_str!("../../templates/staff_nav.html"),
    ),
    (
        "staff_login.html",
        include_str!("../../templates/staff_login.html"),
    ),
    (
        "staff_enrol.html",
        include_str!("../../templates/staff_enrol.html"),
    ),
    (
        "staff_home.html",
        include_str!("../../templates/staff_home.html"),
    ),
    (
        "staff_files.html",
        include_str!("../../templates/staff_files.html"),
    ),
    (
        "staff_file.html",
        include_str!("../../templates/staff_file.html"),
    ),
    (
        "staff_requests.html",
        include_str!("../../templates/staff_requests.html"),
    ),
    (
        "staff_directory.html",
        include_str!("../../templates/staff_directory.html"),
    ),
    (
        "staff_invited.html",
        include_str!("../../templates/staff_invited.html"),
    ),
    (
        "staff_review.html",
        include_str!("../../templates/staff_review.html"),
    ),
    (
        "staff_complaints.html",
        include_str!("../../templates/staff_complaints.html"),
    ),
    (
        "staff_complaint.html",
        include_str!("../../templates/staff_complaint.html"),
    ),
    (
        "staff_letters.html",
        include_str!("../../templates/staff_letters.html"),
    ),
    (
        "staff_clients.html",
        include_str!("../../templates/staff_clients.html"),
    ),
    (
        "staff_keys.html",
        include_str!("../../templates/staff_keys.html"),
    ),
    (
        "staff_ledger.html",
        include_str!("../../templates/staff_ledger.html"),
    ),
    (
        "staff_reauth.html",
        include_str!("../../templates/staff_reauth.html"),
    ),
];

/// Unix seconds as the page shows them: in the page's time zone (`tz`)
/// and language (`lang`), with the zone ("Dec 2, 2026, 9:15 a.m. EST",
/// "2 déc. 2026, 9 h 15 HNE"; see [`super::dates`]).
fn datetime(state: &minijinja::State, at: i64) -> String {
    let lookup = |name: &str| {
        state
            .lookup(name)
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let locale = lookup("lang")
        .as_deref()
        .and_then(super::Locale::parse)
        .unwrap_or(super::Locale::Fr);
    let zone = lookup("tz").unwrap_or_else(|| super::dates::DEFAULT_TIME_ZONE.to_owned());
    super::dates::format(at, locale, &zone)
}

/// Unix seconds as an RFC 3339 date-time, for `<time datetime>`.
fn iso(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub(crate) static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            // A template that does not parse fails the unit test below; at
            // run time the page would answer with the error page instead.
            tracing::error!(template = name, error = %e, "template does not parse");
        }
    }
    env.add_filter("datetime", datetime);
    env.add_filter("iso", iso);
    env.add_function("asset", |name: &str| super::asset_url(name));
    env
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{catalog, Locale};

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn every_message_key_used_in_templates_exists() {
        let fr = catalog(Locale::Fr);
        for (name, source) in TEMPLATES {
            for quote in ['"', '\''] {
                let open = format!("t({quote}");
                let mut rest = *source;
                while let Some(at) = rest.find(&open) {
                    // `t(` itself, not the end of `asset(`.
                    let call = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
                    rest = &rest[at + open.len()..];
                    if !call {
                        continue;
                    }
                    let end = rest.find(quote).unwrap();
                    let key = &rest[..end];
                    // `t("event." ~ kind)`: a family of keys, checked below.
                    if !key.ends_with('.') {
                        assert!(fr.contains_key(key), "{name} uses missing message {key:?}");
                    }
                    rest = &rest[end..];
                }
            }
        }
        for kind in [
            "sign_in",
            "enrolled",
            "recovered",
            "passkey_added",
            "passkey_renamed",
            "passkey_removed",
            "code_refused",
            "code_reissued",
            "sign_count_regression",
            "signed_out_everywhere",
        ] {
            assert!(fr.contains_key(&format!("event.{kind}")), "event.{kind}");
        }
    }

    #[test]
    fn every_template_renders_in_both_languages() {
        use minijinja::value::{Kwargs, Value};
        for locale in Locale::ALL {
            let t = Value::from_function(move |key: &str, _kwargs: Kwargs| {
                Ok::<_, minijinja::Error>(crate::web::i18n::message(locale, key))
            });
            let passkey = minijinja::context! {
                id => "AAAA", name => "Phone", created_at => 1_700_000_000,
                last_used_at => 1_700_000_100, synced => true, enrolled_via => "enrolment",
            };
            let event = minijinja::context! {
                kind => "sign_in", at => 1_700_000_100, detail => minijinja::context! { passkey => "Phone" },
            };
            let ctx = minijinja::context! {
                lang => locale.tag(), other_lang => locale.other().tag(), switch_url => "/x?lang=en",
                csrf => "token", t => t, request => "req", error => "enrol.refused",
                code => "ABCD", birthdate => "1984-03-02", status => 403,
                title_key => "error.csrf.title", body_key => "error.csrf.body",
                min_age => 14, grant => "g", given_name => "Camille", purpose => "recovery",
                passkeys => vec![passkey], signins => vec![event.clone()], activity => vec![event],
                fresh => true, notice => "notice.added", notice_error => false, recovered => true,
                id => "AAAA", name => "Phone", unconfirmed => true, services => 2,
            };
            // The passkey pages; other pages are rendered by their own tests
            // with their own context.
            let pages = [
                "error.html",
                "login.html",
                "enrol.html",
                "enrol_minor.html",
                "register.html",
                "account.html",
                "remove_last.html",
                "account_close.html",
                "account_closed.html",
            ];
            for name in pages {
                let html = ENV
                    .get_template(name)
                    .and_then(|t| t.render(&ctx))
                    .unwrap_or_else(|e| panic!("{name}: {e:#}"));
                assert!(
                    html.contains(&format!("<html lang=\"{}\">", locale.tag())),
                    "{name}"
                );
                assert!(!html.contains("<script>"), "{name}: no inline script");
            }
        }
    }

    #[test]
    fn dates_are_shown_in_the_page_zone_and_language() {
        let env = &*ENV;
        let render = |ctx: minijinja::Value| {
            env.render_str("{{ at|datetime }} {{ at|iso }}", ctx)
                .unwrap()
        };
        let at = 1_796_220_900; // 2026-12-02T14:15:00Z
        assert_eq!(
            render(minijinja::context! { at => at, lang => "en", tz => "America/Toronto" }),
            "Dec 2, 2026, 9:15 a.m. EST 2026-12-02T14:15:00Z"
        );
        assert_eq!(
            render(minijinja::context! { at => at, lang => "fr" }),
            "2 déc. 2026, 9 h 15 HNE 2026-12-02T14:15:00Z"
        );
        assert_eq!(
            render(minijinja::context! { at => at, lang => "en", tz => "UTC" }),
            "Dec 2, 2026, 2:15 p.m. UTC 2026-12-02T14:15:00Z"
        );
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
    }
}
