use sqin_crypto::{b64url, random_bytes};
use sqin_store::citizens::{self, Citizen, CitizenStatus};
use sqin_store::Connection;
use time::macros::format_description;
use time::Date;

use crate::RegisterError;

/// A citizen as the register describes them, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct NewCitizen {
    pub register_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birthdate: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

const MAX_FIELD: usize = 200;

impl NewCitizen {
    /// Checks every field and returns the record in canonical form (trimmed,
    /// empty optional fields as `None`). The message names the field.
    pub fn validate(self, today: Date) -> Result<NewCitizen, String> {
        let register_id = required("register_id", &self.register_id)?;
        if !register_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "register_id {register_id:?} may contain only letters, digits, '-', '_' and '.'"
            ));
        }
        let given_name = required("given_name", &self.given_name)?;
        let family_name = required("family_name", &self.family_name)?;
        let birthdate = required("birthdate", &self.birthdate)?;
        let date = Date::parse(&birthdate, format_description!("[year]-[month]-[day]"))
            .map_err(|_| format!("birthdate {birthdate:?} is not an ISO 8601 date (YYYY-MM-DD)"))?;
        if date > today {
            return Err(format!("birthdate {birthdate} is in the future"));
        }
        if date.year() < 1880 {
            return Err(format!("birthdate {birthdate} is implausibly early"));
        }
        let email = optional("email", self.email)?;
        if let Some(email) = &email {
            let valid = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(char::is_whitespace)
            });
            if !valid {
                return Err(format!("email {email:?} is not an email address"));
            }
        }
        let address = optional("address", self.address)?;
        let locale = optional("locale", self.locale)?;
        if let Some(locale) = &locale {
            if !matches!(locale.split('-').next(), Some("fr" | "en")) || locale.len() > 10 {
                return Err(format!(
                    "locale {locale:?} is not supported (fr or en, optionally with a region such as fr-CA)"
                ));
            }
        }
        Ok(NewCitizen {
            register_id,
            given_name,
            family_name,
            birthdate,
            email,
            address,
            locale,
        })
    }

    pub(crate) fn into_citizen(self, now: i64) -> Result<Citizen, RegisterError> {
        Ok(Citizen {
            id: b64url(&random_bytes::<16>()?),
            register_id: self.register_id,
            given_name: self.given_name,
            family_name: self.family_name,
            birthdate: self.birthdate,
            email: self.email,
            address: self.address,
            locale: self.locale,
            status: CitizenStatus::Registered,
            created_at: now,
            updated_at: now,
        })
    }
}

fn required(name: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{name} is required"));
    }
    if value.len() > MAX_FIELD || value.chars().any(char::is_control) {
        return Err(format!(
            "{name} must be at most {MAX_FIELD} characters without control characters"
        ));
    }
    Ok(value.to_owned())
}

fn optional(name: &str, value: Option<String>) -> Result<Option<String>, String> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required(name, v).map(Some),
    }
}

/// The register fields a correction may change, by PIA element id. The
/// register id (the file's key, the source register's own identifier), the
/// internal id and the account state are not among them.
pub const CORRECTABLE: &[&str] = &[
    "citizen.given_name",
    "citizen.family_name",
    "citizen.birthdate",
    "citizen.email",
    "citizen.address",
    "citizen.locale",
];

/// `citizen` with `element` set to `value`, checked as an import checks a
/// row (an optional field may be emptied); the message names the field.
pub fn corrected(
    citizen: &Citizen,
    element: &str,
    value: &str,
    now: i64,
) -> Result<Citizen, String> {
    let mut row = NewCitizen {
        register_id: citizen.register_id.clone(),
        given_name: citizen.given_name.clone(),
        family_name: citizen.family_name.clone(),
        birthdate: citizen.birthdate.clone(),
        email: citizen.email.clone(),
        address: citizen.address.clone(),
        locale: citizen.locale.clone(),
    };
    let value = value.to_owned();
    match element {
        "citizen.given_name" => row.given_name = value,
        "citizen.family_name" => row.family_name = value,
        "citizen.birthdate" => row.birthdate = value,
        "citizen.email" => row.email = Some(value),
        "citizen.address" => row.address = Some(value),
        "citizen.locale" => row.locale = Some(value),
        other => return Err(format!("{other} cannot be corrected here")),
    }
    let row = row.validate(today(now))?;
    Ok(Citizen {
        given_name: row.given_name,
        family_name: row.family_name,
        birthdate: row.birthdate,
        email: row.email,
        address: row.address,
        locale: row.locale,
        updated_at: now,
        ..citizen.clone()
    })
}

pub(crate) fn today(now: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(now)
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// Adds one citizen and issues their enrolment code, in one transaction.
pub async fn add_citizen(
    conn: &mut Connection,
    issuer: &crate::EnrolmentCodeIssuer,
    vault: &citizens::RegisterVault,
    citizen: NewCitizen,
    now: i64,
) -> Result<(Citizen, crate::IssuedCode), RegisterError> {
    let citizen = citizen
        .validate(today(now))
        .map_err(RegisterError::Invalid)?
        .into_citizen(now)?;
    let mut tx = sqlx_begin(conn).await?;
    citizens::insert(&mut tx, vault, &citizen).await?;
    let code = issuer
        .issue(
            &mut tx,
            &citizen.id,
            sqin_store::enrolment::CodePurpose::Enrolment,
            now,
        )
        .await?;
    tx.commit().await?;
    Ok((citizen, code))
}

pub(crate) async fn sqlx_begin(
    conn: &mut Connection,
) -> Result<sqin_store::ConnTx<'_>, RegisterError> {
    Ok(sqin_store::begin_on(conn).await?)
}
