//! Forbidden subjects: what sqin never holds, discloses or serves, whatever
//! an entry of the inventory claims to be.
//!
//! An identity provider that knows which services a citizen uses is one
//! query away from sorting citizens by what they believe or whom they vote
//! for. The schema's closed lists (categories, actions, access kinds) have no
//! entry for such subjects, and this module makes sure no free-text entry
//! brings one in under another name: every element id, description, claim
//! and legal basis, every purpose, scope, role and relying party is matched
//! against the compiled-in [`SUBJECTS`] (political opinion, party support,
//! voting intention, religious or philosophical beliefs, union membership,
//! health, sexual orientation, ethnic origin) and, for what says why
//! something is done, against the profiling purposes. The match ignores case
//! and accents, splits ids on `.`, `_` and `-`, and reads `religi*` as every
//! word that starts `religi`, so `citizen.political_support` is caught as
//! surely as "Soutien partisan".
//!
//! The PIA may add subjects and terms (`[[forbidden_subject]]`), never remove
//! one. A deliberate exception (`[[forbidden_exception]]`) must cite a held
//! consultation of the committee, and is refused anyway unless sqin-pia is
//! built with its `forbidden-exceptions` feature: the default build, the one
//! the project ships, accepts none.
use std::collections::{BTreeSet, HashMap};

use crate::model::{ConsultationStatus, Inventory};
use crate::Problem;

/// A forbidden subject: what it is, and the words that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub id: &'static str,
    pub title: &'static str,
    /// French and English words and phrases: `vote*` is a stem, `party
    /// member` a phrase. Written in lower case without accents (the text
    /// they are matched against is folded the same way).
    pub terms: &'static [&'static str],
    /// A profiling purpose: matched only against what says why something
    /// is done (purposes, relying parties' purposes, element ids and
    /// descriptions), since a risk may well describe profiling to refuse it.
    pub profiling: bool,
}

/// Whether this build accepts a forbidden subject with a consulted
/// exception (the `forbidden-exceptions` feature; off by default).
pub const EXCEPTIONS_ALLOWED: bool = cfg!(feature = "forbidden-exceptions");

/// The compiled-in subjects. The PIA can add to them, not take away.
pub const SUBJECTS: &[Subject] = &[
    Subject {
        id: "political-opinion",
        title: "political opinion or affiliation",
        terms: &[
            "politi*",
            "partisan*",
            "ideolog*",
            "militant*",
            "activis*",
            "allegiance*",
            "allegeance*",
            "left wing",
            "right wing",
            "souverainis*",
            "federalis*",
            "independantis*",
            "nationalis*",
        ],
        profiling: false,
    },
    Subject {
        id: "party-support",
        title: "support for a party, or scoring of supporters",
        terms: &[
            "parti",
            "partis",
            "party support*",
            "party member*",
            "party affiliation*",
            "party donor*",
            "party donation*",
            "supporter*",
            "sympathis*",
            "sympathiz*",
            "opponent*",
            "opposant*",
            "pointage",
            "canvass*",
            "door to door",
            "porte a porte",
        ],
        profiling: false,
    },
    Subject {
        id: "voting-intention",
        title: "voting intention or electoral behaviour",
        terms: &[
            "vote*",
            "voting",
            "ballot*",
            "scrutin*",
            "elector*",
            "electeur*",
            "electrice*",
            "election*",
            "referend*",
            "sondage*",
        ],
        profiling: false,
    },
    Subject {
        id: "religious-belief",
        title: "religious or philosophical beliefs",
        terms: &[
            "religi*",
            "croyance*",
            "belief*",
            "church*",
            "eglise*",
            "mosque*",
            "synagog*",
            "atheis*",
            "athee*",
            "agnosti*",
            "spiritual*",
            "spirituel*",
            "philosophi* conviction*",
            "philosophi* opinion*",
            "conviction* philosophi*",
            "conviction* religi*",
        ],
        profiling: false,
    },
    Subject {
        id: "union-membership",
        title: "trade union membership",
        terms: &[
            "syndica*",
            "syndiqu*",
            "trade union*",
            "labour union*",
            "labor union*",
            "union member*",
            "union dues",
            "union affiliation*",
            "unionis*",
            "unioniz*",
        ],
        profiling: false,
    },
    Subject {
        id: "health",
        title: "health information (no service's sign-in needs it)",
        terms: &[
            "medic*",
            "medecin*",
            "diagnos*",
            "patholog*",
            "illness*",
            "disease*",
            "handicap*",
            "disabilit*",
            "invalidit*",
            "symptom*",
            "genetic*",
            "genetique*",
            "dna",
            "pregnan*",
            "grossesse*",
            "vaccin*",
            "allerg*",
            "health condition*",
            "health status",
            "health record*",
            "health data",
            "mental health",
            "etat de sante",
            "sante mentale",
            "blood type*",
            "groupe sanguin",
        ],
        profiling: false,
    },
    Subject {
        id: "sexual-orientation",
        title: "sex life or sexual orientation",
        terms: &[
            "sexual*",
            "sexuel*",
            "homosexu*",
            "heterosexu*",
            "bisexu*",
            "lgbt*",
        ],
        profiling: false,
    },
    Subject {
        id: "ethnic-origin",
        title: "racial or ethnic origin",
        terms: &[
            "ethni*",
            "racial*",
            "race",
            "races",
            "racis*",
            "skin colour*",
            "skin color*",
            "couleur de peau",
        ],
        profiling: false,
    },
    Subject {
        id: "profiling",
        title: "profiling, scoring or segmenting citizens",
        terms: &[
            "profiling",
            "profilage",
            "scor*",
            "ranking*",
            "segment*",
            "surveil*",
            "tracking",
            "pistage",
            "tracage",
            "behavio*",
            "comportement*",
            "targeting",
            "ciblage",
            "microtarget*",
            "marketing",
            "advertis*",
            "publicit*",
            "propensit*",
            "predicti*",
            "analytics",
            "analytique*",
            "data mining",
            "forage de donnees",
            "social credit",
        ],
        profiling: true,
    },
];

/// Lower case without accents: `Élection` is `election`, `Œuvre` `oeuvre`.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let s = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'ç' | 'ć' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => "i",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
            'ý' | 'ÿ' => "y",
            'š' | 'ś' => "s",
            'ž' | 'ź' | 'ż' => "z",
            'ď' => "d",
            'ł' => "l",
            'ř' => "r",
            'ť' => "t",
            'œ' => "oe",
            'æ' => "ae",
            'ß' => "ss",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(s);
    }
    out
}

/// The words of `text`, folded: split on anything that is not a letter or a
/// digit, so `citizen.political_support` is `citizen political support`
/// and `d'opinion` is `d opinion`.
pub(crate) fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether one word of a term matches one word of the text.
fn word_matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => word == pattern,
    }
}

/// The first term of `terms` found in `text`, if any.
#[cfg(test)]
fn find_term<'t>(terms: impl IntoIterator<Item = &'t str>, text: &[String]) -> Option<&'t str> {
    terms
        .into_iter()
        .find(|term| term_in(&words_of_term(term), text))
}

/// Whether the term's words (from [`words_of_term`]) are in `text`.
fn term_in(pattern: &[String], text: &[String]) -> bool {
    !pattern.is_empty()
        && text
            .windows(pattern.len())
            .any(|window| pattern.iter().zip(window).all(|(p, w)| word_matches(p, w)))
}

/// A term's words, folded, keeping a trailing `*`.
fn words_of_term(term: &str) -> Vec<String> {
    fold(term)
        .split_whitespace()
        .map(|w| {
            let stem = w.ends_with('*');
            let core: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
            if stem {
                format!("{core}*")
            } else {
                core
            }
        })
        .filter(|w| w != "*" && !w.is_empty())
        .collect()
}

/// A subject as this inventory sees it: the compiled-in one with the
/// terms the PIA added, or one the PIA added.
struct Active {
    id: String,
    title: String,
    terms: Vec<String>,
    profiling: bool,
}

/// A subject's terms, indexed: single words by their exact spelling or
/// stem, phrases as they are.
struct Matcher<'a> {
    exact: HashMap<String, &'a str>,
    stems: HashMap<String, &'a str>,
    phrases: Vec<(&'a str, Vec<String>)>,
}

impl Matcher<'_> {
    fn new(terms: &[String]) -> Matcher<'_> {
        let mut m = Matcher {
            exact: HashMap::new(),
            stems: HashMap::new(),
            phrases: Vec::new(),
        };
        for term in terms {
            let pattern = words_of_term(term);
            match pattern.as_slice() {
                [] => {}
                [one] => match one.strip_suffix('*') {
                    Some(stem) => {
                        m.stems.entry(stem.to_owned()).or_insert(term);
                    }
                    None => {
                        m.exact.entry(one.clone()).or_insert(term);
                    }
                },
                _ => m.phrases.push((term, pattern)),
            }
        }
        m
    }

    /// The term found in `text`, if any.
    fn find(&self, text: &[String]) -> Option<&str> {
        for word in text {
            if let Some(term) = self.exact.get(word) {
                return Some(term);
            }
            for (i, _) in word.char_indices().skip(1) {
                if let Some(term) = word.get(..i).and_then(|p| self.stems.get(p)) {
                    return Some(term);
                }
            }
            if let Some(term) = self.stems.get(word) {
                return Some(term);
            }
        }
        self.phrases
            .iter()
            .find(|(_, pattern)| term_in(pattern, text))
            .map(|(term, _)| *term)
    }
}

fn active(inv: &Inventory) -> Vec<Active> {
    let mut out: Vec<Active> = SUBJECTS
        .iter()
        .map(|s| Active {
            id: s.id.to_owned(),
            title: s.title.to_owned(),
            terms: s.terms.iter().map(|t| (*t).to_owned()).collect(),
            profiling: s.profiling,
        })
        .collect();
    for added in &inv.forbidden_subjects {
        match out.iter_mut().find(|s| s.id == added.id) {
            // Terms added to a compiled-in subject; its own stay, and so
            // does its scope (a PIA cannot narrow a subject to purposes).
            Some(s) => s.terms.extend(added.terms.iter().cloned()),
            None => out.push(Active {
                id: added.id.clone(),
                title: added.title.clone(),
                terms: added.terms.clone(),
                profiling: added.profiling,
            }),
        }
    }
    out
}

/// What is matched: an entry (`table`, `id`), the field, its text, and
/// whether the field says why something is done (profiling terms apply).
struct Field<'a> {
    table: &'static str,
    id: &'a str,
    field: &'static str,
    text: &'a str,
    says_why: bool,
}

fn fields(inv: &Inventory) -> Vec<Field<'_>> {
    let mut out = Vec::new();
    for e in &inv.elements {
        let id = e.id.as_str();
        out.push(Field {
            table: "element",
            id,
            field: "id",
            text: id,
            says_why: true,
        });
        out.push(Field {
            table: "element",
            id,
            field: "description",
            text: &e.description,
            says_why: true,
        });
        out.push(Field {
            table: "element",
            id,
            field: "legal_basis",
            text: &e.legal_basis,
            says_why: false,
        });
        if let Some(claim) = &e.disclosed_as_claim {
            out.push(Field {
                table: "element",
                id,
                field: "disclosed_as_claim",
                text: claim,
                says_why: true,
            });
        }
        for p in &e.purposes {
            out.push(Field {
                table: "element",
                id,
                field: "purposes",
                text: p,
                says_why: true,
            });
        }
    }
    for p in &inv.purposes {
        for (field, text) in [
            ("id", &p.id),
            ("title", &p.title),
            ("description", &p.description),
        ] {
            out.push(Field {
                table: "purpose",
                id: &p.id,
                field,
                text,
                says_why: true,
            });
        }
    }
    for s in &inv.scopes {
        out.push(Field {
            table: "scope",
            id: &s.name,
            field: "name",
            text: &s.name,
            says_why: false,
        });
        for c in &s.claims {
            out.push(Field {
                table: "scope",
                id: &s.name,
                field: "claims",
                text: c,
                says_why: true,
            });
        }
    }
    for r in &inv.roles {
        for (field, text) in [("id", &r.id), ("name", &r.name)] {
            out.push(Field {
                table: "role",
                id: &r.id,
                field,
                text,
                says_why: false,
            });
        }
    }
    for rp in &inv.relying_parties {
        for (field, text, says_why) in [
            ("id", &rp.id, true),
            ("name", &rp.name, false),
            ("body", &rp.body, false),
            ("purpose", &rp.purpose, true),
            ("purpose_fr", &rp.purpose_fr, true),
            ("legal_basis", &rp.legal_basis, false),
        ] {
            out.push(Field {
                table: "relying_party",
                id: &rp.id,
                field,
                text,
                says_why,
            });
        }
        for c in &rp.claims {
            out.push(Field {
                table: "relying_party",
                id: &rp.id,
                field: "claims",
                text: c,
                says_why: true,
            });
        }
    }
    out
}

/// The tables an exception may name.
const TABLES: [&str; 5] = ["element", "purpose", "scope", "role", "relying_party"];

pub(crate) fn problems(inv: &Inventory, out: &mut Vec<Problem>) {
    let subjects = active(inv);
    let patterns: Vec<Matcher<'_>> = subjects.iter().map(|s| Matcher::new(&s.terms)).collect();
    let mut add = |at: String, message: String| out.push(Problem { at, message });
    for s in &inv.forbidden_subjects {
        let at = format!("forbidden_subject `{}`", s.id);
        if s.title.trim().is_empty() {
            add(at.clone(), "`title` must not be empty".to_owned());
        }
        if s.terms.is_empty() {
            add(at.clone(), "lists no term".to_owned());
        }
        for t in &s.terms {
            if words_of_term(t).is_empty() {
                add(at.clone(), format!("term {t:?} has no word to match"));
            }
        }
    }
    let mut used: BTreeSet<usize> = BTreeSet::new();
    // One problem per entry and subject: the first field that touches it.
    let mut reported: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    for f in fields(inv) {
        let text = words(f.text);
        for (s, terms) in subjects.iter().zip(&patterns) {
            if s.profiling && !f.says_why {
                continue;
            }
            if reported.contains(&(f.table, f.id, s.id.as_str())) {
                continue;
            }
            let Some(term) = terms.find(&text) else {
                continue;
            };
            reported.insert((f.table, f.id, s.id.as_str()));
            let at = format!("{} `{}`", f.table, f.id);
            let found = format!(
                "{} {:?} touches the forbidden subject `{}` ({}) through {term:?}",
                f.field, f.text, s.id, s.title
            );
            let exception = inv
                .forbidden_exceptions
                .iter()
                .position(|x| x.subject == s.id && x.table == f.table && x.id == f.id);
            let Some(index) = exception else {
                add(
                    at,
                    format!(
                        "{found}; sqin holds, discloses and serves no such information whatever the entry's category, storage or status (a deliberate exception needs a [[forbidden_exception]] citing a consultation, and a build with the `forbidden-exceptions` feature)"
                    ),
                );
                continue;
            };
            used.insert(index);
            let Some(x) = inv.forbidden_exceptions.get(index) else {
                continue;
            };
            let consulted = inv
                .consultations
                .iter()
                .any(|c| c.id == x.consultation && c.status == ConsultationStatus::Held);
            if !consulted {
                add(
                    at,
                    format!(
                        "{found}; its exception cites consultation `{}`, which is not a held [[consultation]]",
                        x.consultation
                    ),
                );
            } else if !EXCEPTIONS_ALLOWED {
                add(
                    at,
                    format!(
                        "{found}; an exception is recorded (consultation `{}`), but this build of sqin refuses every forbidden subject: only a build with the `forbidden-exceptions` feature of sqin-pia accepts a consulted exception",
                        x.consultation
                    ),
                );
            }
        }
    }
    for (i, x) in inv.forbidden_exceptions.iter().enumerate() {
        let at = format!(
            "forbidden_exception `{}` for {} `{}`",
            x.subject, x.table, x.id
        );
        if !subjects.iter().any(|s| s.id == x.subject) {
            add(at.clone(), "names no forbidden subject".to_owned());
        }
        if !TABLES.contains(&x.table.as_str()) {
            add(
                at.clone(),
                format!("table {:?} is not one of {}", x.table, TABLES.join(", ")),
            );
        }
        if x.reason.trim().is_empty() {
            add(at.clone(), "`reason` must not be empty".to_owned());
        }
        if !used.contains(&i) {
            add(
                at,
                "matches nothing: no such entry touches that subject; remove the exception"
                    .to_owned(),
            );
        }
    }
}

/// The forbidden subjects (compiled-in and added) that `text` touches, with
/// the term found: for tests and tools.
pub fn subjects_in(inv: &Inventory, text: &str) -> Vec<(String, String)> {
    let text = words(text);
    active(inv)
        .into_iter()
        .filter_map(|s| {
            let term = Matcher::new(&s.terms).find(&text)?.to_owned();
            Some((s.id, term))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_split() {
        assert_eq!(
            words("citizen.political_support"),
            ["citizen", "political", "support"]
        );
        assert_eq!(words("Intention de VOTE"), ["intention", "de", "vote"]);
        assert_eq!(words("Élection-Œuvre"), ["election", "oeuvre"]);
        assert_eq!(words("d'opinion"), ["d", "opinion"]);
        let text = words("Soutien partisan déclaré");
        assert_eq!(find_term(["partisan*"], &text), Some("partisan*"));
        let text = words("scores of party supporters");
        assert_eq!(
            find_term(["parti", "party support*"], &text),
            Some("party support*")
        );
        let text = words("a relying party, a partial match");
        assert_eq!(find_term(["parti", "party support*"], &text), None);
        assert_eq!(
            words_of_term("Conviction* philosophi*"),
            ["conviction*", "philosophi*"]
        );
    }
}
