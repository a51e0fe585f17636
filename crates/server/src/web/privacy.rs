//! The confidentiality policy as a public page (`/privacy`), linked from
//! every page: s. 63.4 asks a public body to publish it in clear terms
//! on its website, and sqin's pages are where information is collected.
//!
//! The text is `pia/confidentiality-policy.md`, versioned with the rest of
//! the privacy impact assessment and compiled in; each language is its own
//! section ("## Français", "## English"), and the page shows the reader's.
use std::sync::LazyLock;

use pulldown_cmark::{html, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::i18n::Locale;

/// The policy as versioned in `pia/`.
pub const POLICY_MARKDOWN: &str = include_str!("../../../../pia/confidentiality-policy.md");

/// One language's section of the policy, rendered to HTML once.
static SECTIONS: LazyLock<[(Locale, String); 2]> = LazyLock::new(|| {
    [
        (Locale::Fr, render(section(POLICY_MARKDOWN, "## Français"))),
        (Locale::En, render(section(POLICY_MARKDOWN, "## English"))),
    ]
});

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

/// The policy's HTML in `locale`.
pub fn policy_html(locale: Locale) -> &'static str {
    SECTIONS
        .iter()
        .find(|(l, _)| *l == locale)
        .map_or("", |(_, html)| html.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_render_and_raw_html_is_shown_as_text() {
        let fr = policy_html(Locale::Fr);
        let en = policy_html(Locale::En);
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
}
