//! French and English messages, and choosing between them.
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The languages sqin speaks. French first: it is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    Fr,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Fr, Locale::En];

    /// The BCP 47 tag, for `lang` attributes and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Locale {
        match self {
            Self::Fr => Self::En,
            Self::En => Self::Fr,
        }
    }

    /// A tag such as `fr`, `fr-CA`, `EN-gb`, or `None` for other languages.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Self::Fr),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The first supported language of an OIDC `ui_locales` value (a
    /// space-separated list in order of preference).
    pub fn from_ui_locales(value: &str) -> Option<Locale> {
        value.split_whitespace().find_map(Locale::parse)
    }

    /// The supported language with the highest weight in an
    /// `Accept-Language` header (RFC 9110 12.5.4); ties keep header order.
    pub fn from_accept_language(value: &str) -> Option<Locale> {
        let mut best: Option<(u16, Locale)> = None;
        for item in value.split(',') {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, |q| {
                    (q.trim().parse::<f32>().unwrap_or(0.0) * 1000.0) as u16
                });
            if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }
}

pub(crate) type Catalog = BTreeMap<String, String>;

fn load(json: &str) -> Catalog {
    // The catalogs are compiled in and checked by a test; an unreadable one
    // would show keys instead of sentences rather than stop the server.
    serde_json::from_str(json).unwrap_or_default()
}

static FR: LazyLock<Catalog> = LazyLock::new(|| load(include_str!("../../templates/i18n/fr.json")));
static EN: LazyLock<Catalog> = LazyLock::new(|| load(include_str!("../../templates/i18n/en.json")));

pub(crate) fn catalog(locale: Locale) -> &'static Catalog {
    match locale {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

/// The message for `key`, or the key itself when missing (tests make sure
/// none is).
pub(crate) fn message(locale: Locale, key: &str) -> String {
    catalog(locale)
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(Locale::from_ui_locales("de en-CA fr"), Some(Locale::En));
        assert_eq!(Locale::from_ui_locales("de"), None);
        assert_eq!(
            Locale::from_accept_language("de-DE,de;q=0.9,en;q=0.5,fr;q=0.8"),
            Some(Locale::Fr)
        );
        assert_eq!(
            Locale::from_accept_language("en-US,en;q=0.9"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("fr;q=0,en;q=0.1"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("*"), None);
        assert_eq!(Locale::parse("FR_ca"), Some(Locale::Fr));
    }

    #[test]
    fn catalogs_have_the_same_keys_and_no_empty_message() {
        let fr: Vec<_> = FR.keys().collect();
        let en: Vec<_> = EN.keys().collect();
        assert!(!fr.is_empty(), "fr.json did not parse");
        assert_eq!(fr, en, "fr.json and en.json must have the same keys");
        for (k, v) in FR.iter().chain(EN.iter()) {
            assert!(!v.trim().is_empty(), "empty message {k}");
        }
    }
}
