//! Who runs this deployment, as citizens are told: the public body, the
//! register and its holder, the privacy officer, the suppliers, the contact
//! and complaint addresses, the policy's date and version, and the site's
//! name. The confidentiality policy (`pia/confidentiality-policy.md`, a
//! template) and the pages' layout are filled in from these settings; a
//! non-demo `sqin serve` refuses to start while one the policy shows is
//! missing (`sqin_server::web::privacy`).
//!
//! Every field is optional here so that a configuration file can be read
//! and checked whole; what is required is what the policy template uses.
use serde::{Deserialize, Serialize};

/// A text shown to citizens: one string for both languages (a name, an
/// address), or a table `{ fr = "...", en = "..." }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    /// The same in French and English.
    Same(String),
    /// Each language's own.
    Each { fr: String, en: String },
}

impl Text {
    /// The text in `lang` (`"fr"` or `"en"`; any other tag reads English).
    pub fn get(&self, lang: &str) -> &str {
        match self {
            Text::Same(s) => s,
            Text::Each { fr, .. } if lang == "fr" => fr,
            Text::Each { en, .. } => en,
        }
    }

    fn each(fr: &str, en: &str) -> Self {
        Text::Each {
            fr: fr.into(),
            en: en.into(),
        }
    }
}

/// The deployment's facts for citizens (the `[deployment]` table of the
/// configuration; docs/operations.md gives an example).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Deployment {
    /// The site's name in the pages' header and titles.
    pub site_name: Option<Text>,
    /// The public body that runs sqin and answers for it.
    pub public_body: PublicBody,
    /// The citizen register sqin imports, and the body that keeps it.
    pub register: Register,
    /// The person in charge of the protection of personal information.
    pub privacy_officer: PrivacyOfficer,
    /// The confidentiality policy's effective date and version.
    pub policy: PolicyVersion,
    /// Where citizens reach support, file a complaint, or the Commission.
    pub contacts: Contacts,
    /// The https URL where the body publishes its governance rules
    /// (`pia/governance.md`, A-2.1 s. 63.3).
    pub governance_url: Option<String>,
    /// How a citizen obtains the services without sqin.
    pub alternatives: Option<Text>,
    /// How the person having parental authority or the tutor acts for a
    /// child under 14.
    pub minors: Option<Text>,
    /// The suppliers that process personal information for the body (the
    /// inventory's processors: hosting, printing and mailing).
    pub suppliers: Vec<Supplier>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublicBody {
    /// Its name.
    pub name: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Register {
    /// The register's name.
    pub name: Option<Text>,
    /// The body that keeps it.
    pub holder: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyOfficer {
    /// Their name.
    pub name: Option<Text>,
    /// Their title.
    pub title: Option<Text>,
    /// Their postal address.
    pub address: Option<Text>,
    /// Their email address.
    pub email: Option<String>,
    /// Their telephone number.
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyVersion {
    /// When this version took effect, `YYYY-MM-DD`.
    pub effective: Option<String>,
    /// Its version, such as `1.0`.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Contacts {
    /// How to reach support (telephone, hours, email), for a locked code.
    pub support: Option<Text>,
    /// Where complaints are sent by email.
    pub complaints_email: Option<String>,
    /// Where complaints are sent by mail.
    pub complaints_address: Option<Text>,
    /// The Commission d'accès à l'information's contact details.
    pub commission: Option<Text>,
}

/// A supplier that processes personal information for the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// Its name.
    pub name: Text,
    /// What it does, such as "hosting".
    pub service: Text,
    /// Where the data it processes is, such as "Québec".
    pub location: Text,
}

impl Deployment {
    /// Nothing configured.
    pub fn is_empty(&self) -> bool {
        *self == Deployment::default()
    }

    /// Whether what is set is well formed: the date is `YYYY-MM-DD`, the
    /// governance URL https, the email addresses addresses, each supplier
    /// named with its service and location. `Err((key, why))` names the
    /// first bad key. A missing value is not an error here: start-up
    /// checks that the policy shows none missing.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, why: String| Err((format!("deployment.{key}"), why));
        if let Some(date) = &self.policy.effective {
            if effective_date(date).is_none() {
                return bad(
                    "policy.effective",
                    format!("{date:?} is not a date written YYYY-MM-DD"),
                );
            }
        }
        if let Some(url) = &self.governance_url {
            let https = url::Url::parse(url.trim()).is_ok_and(|u| u.scheme() == "https");
            if !https {
                return bad("governance_url", format!("{url:?} must be an https URL"));
            }
        }
        for (key, email) in [
            ("privacy_officer.email", &self.privacy_officer.email),
            ("contacts.complaints_email", &self.contacts.complaints_email),
        ] {
            if let Some(email) = email {
                let (local, domain) = email.trim().split_once('@').unwrap_or_default();
                if local.is_empty() || !domain.contains('.') || email.trim().contains(' ') {
                    return bad(key, format!("{email:?} is not an email address"));
                }
            }
        }
        for (i, s) in self.suppliers.iter().enumerate() {
            for (field, text) in [
                ("name", &s.name),
                ("service", &s.service),
                ("location", &s.location),
            ] {
                if ["fr", "en"].iter().any(|l| text.get(l).trim().is_empty()) {
                    return bad(
                        &format!("suppliers[{i}].{field}"),
                        "must not be empty, in French or in English".into(),
                    );
                }
            }
        }
        Ok(())
    }

    /// The demo's values: a fictitious body, every address `.invalid` or a
    /// fictitious 555 number, each marked as a demonstration (`sqin demo`
    /// and the tests).
    pub fn demo() -> Self {
        let fictitious = |fr: &str, en: &str| Some(Text::each(fr, en));
        Deployment {
            site_name: fictitious(
                "Identité numérique du Québec (démo sqin)",
                "Québec digital identity (sqin demo)",
            ),
            public_body: PublicBody {
                name: fictitious(
                    "Ministère de la Démonstration (organisme fictif)",
                    "Ministry of Demonstration (a fictitious body)",
                ),
            },
            register: Register {
                name: fictitious(
                    "Registre de démonstration (citoyens fictifs)",
                    "Demonstration register (fictitious citizens)",
                ),
                holder: fictitious(
                    "Direction fictive du registre",
                    "Fictitious Register Office",
                ),
            },
            privacy_officer: PrivacyOfficer {
                name: Some(Text::Same("Camille Exemple (fictive)".into())),
                title: fictitious(
                    "Responsable de la protection des renseignements personnels (démo)",
                    "Person in charge of the protection of personal information (demo)",
                ),
                address: Some(Text::Same(
                    "1000, rue de l'Exemple, Québec (Québec) G1A 0A0 (adresse fictive)".into(),
                )),
                email: Some("prp@demo.invalid".into()),
                phone: Some("+1 418 555-0100".into()),
            },
            policy: PolicyVersion {
                effective: Some("2026-11-23".into()),
                version: Some("demo".into()),
            },
            contacts: Contacts {
                support: fictitious(
                    "soutien@demo.invalid ou +1 418 555-0101 (démo)",
                    "support@demo.invalid or +1 418 555-0101 (demo)",
                ),
                complaints_email: Some("plaintes@demo.invalid".into()),
                complaints_address: fictitious(
                    "Plaintes, 1000, rue de l'Exemple, Québec (Québec) G1A 0A0 (adresse fictive)",
                    "Complaints, 1000 rue de l'Exemple, Québec QC G1A 0A0 (a fictitious address)",
                ),
                commission: Some(Text::Same("www.cai.gouv.qc.ca".into())),
            },
            governance_url: Some("https://gouvernance.demo.invalid/sqin".into()),
            alternatives: fictitious(
                "au comptoir ou par la poste, comme avant sqin (démo)",
                "at the counter or by mail, as before sqin (demo)",
            ),
            minors: fictitious(
                "le parent ou le tuteur s'inscrit lui-même et fait la demande pour l'enfant (démo)",
                "the parent or tutor enrols and makes the request for the child (demo)",
            ),
            suppliers: vec![
                Supplier {
                    name: Text::Same("Hébergement Fictif inc.".into()),
                    service: Text::each(
                        "hébergement des serveurs et de la base de données",
                        "hosting of the servers and the database",
                    ),
                    location: Text::each("Québec (démo)", "Québec (demo)"),
                },
                Supplier {
                    name: Text::Same("Imprimerie Fictive inc.".into()),
                    service: Text::each(
                        "impression et envoi postal des lettres d'inscription",
                        "printing and mailing of the enrolment letters",
                    ),
                    location: Text::each("Québec (démo)", "Québec (demo)"),
                },
            ],
        }
    }
}

/// `(year, month, day)` of a `YYYY-MM-DD` date that exists.
pub fn effective_date(text: &str) -> Option<(i32, u8, u8)> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i32, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_one_string_or_one_per_language() {
        #[derive(Deserialize)]
        struct T {
            a: Text,
            b: Text,
        }
        let t: T = serde_json::from_str(r#"{"a":"Québec","b":{"fr":"Registre","en":"Register"}}"#)
            .unwrap();
        assert_eq!((t.a.get("fr"), t.a.get("en")), ("Québec", "Québec"));
        assert_eq!((t.b.get("fr"), t.b.get("en")), ("Registre", "Register"));
        assert!(Deployment::default().is_empty());
        assert!(!Deployment::demo().is_empty());
    }

    #[test]
    fn bad_values_are_refused_by_key() {
        Deployment::demo().validate().unwrap();
        Deployment::default().validate().unwrap();
        let key = |d: Deployment| d.validate().unwrap_err().0;
        let mut d = Deployment::demo();
        d.policy.effective = Some("2027-02-30".into());
        assert_eq!(key(d), "deployment.policy.effective");
        let mut d = Deployment::demo();
        d.governance_url = Some("http://gouv.example/gouvernance".into());
        assert_eq!(key(d), "deployment.governance_url");
        let mut d = Deployment::demo();
        d.privacy_officer.email = Some("prp at gouv".into());
        assert_eq!(key(d), "deployment.privacy_officer.email");
        let mut d = Deployment::demo();
        d.suppliers[1].location = Text::each("Québec", " ");
        assert_eq!(key(d), "deployment.suppliers[1].location");
        assert_eq!(effective_date("2028-02-29"), Some((2028, 2, 29)));
        assert_eq!(effective_date("2027-1-05"), None);
    }
}
