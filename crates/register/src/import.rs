use std::collections::HashMap;
use std::io::Read;

use sqin_store::citizens;
use sqin_store::Connection;

use crate::record::{sqlx_begin, today, NewCitizen};
use crate::{EnrolmentCodeIssuer, IssuedCode, RegisterError};
use time::Date;

const REQUIRED: [&str; 4] = ["register_id", "given_name", "family_name", "birthdate"];
const OPTIONAL: [&str; 3] = ["email", "address", "locale"];

/// What an import did: one issued code per citizen, in file order, to be
/// printed once for the mail merge.
#[derive(Debug)]
pub struct ImportReport {
    pub issued: Vec<(String, IssuedCode)>,
}

/// Reads and validates a register extract without touching the database:
/// the header must name the known columns, every row must validate (see
/// [`NewCitizen::validate`]) and no `register_id` may appear twice. Returns
/// the rows in canonical form with their line numbers (the header is line 1).
/// [`import_csv`] writes nothing unless this succeeds.
pub fn parse_csv(input: impl Read, today: Date) -> Result<Vec<(u64, NewCitizen)>, RegisterError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| RegisterError::Csv(e.to_string()))?
        .clone();
    for name in headers.iter() {
        if !REQUIRED.contains(&name) && !OPTIONAL.contains(&name) {
            return Err(RegisterError::BadRow {
                line: 1,
                message: format!(
                    "unknown column {name:?}; expected {} and optionally {}",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ),
            });
        }
    }
    for name in REQUIRED {
        if !headers.iter().any(|h| h == name) {
            return Err(RegisterError::BadRow {
                line: 1,
                message: format!("missing column {name:?}"),
            });
        }
    }

    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.deserialize::<NewCitizen>() {
        let line = rows.len() as u64 + 2;
        let row = record.map_err(|e| RegisterError::BadRow {
            line: e.position().map_or(line, |p| p.line()),
            message: e.to_string(),
        })?;
        let row = row
            .validate(today)
            .map_err(|message| RegisterError::BadRow { line, message })?;
        if let Some(first) = seen.insert(row.register_id.clone(), line) {
            return Err(RegisterError::BadRow {
                line,
                message: format!(
                    "register_id {:?} already appears on line {first}",
                    row.register_id
                ),
            });
        }
        rows.push((line, row));
    }
    if rows.is_empty() {
        return Err(RegisterError::Invalid(
            "the file has no citizen rows".into(),
        ));
    }

    Ok(rows)
}

/// Imports a register extract: every row is validated before anything is
/// written, then all rows and their codes are written in one transaction. Any
/// bad row, duplicate, or interruption leaves the database unchanged. Line
/// numbers in errors count the header as line 1, as a spreadsheet shows them.
pub async fn import_csv(
    conn: &mut Connection,
    issuer: &EnrolmentCodeIssuer,
    vault: &sqin_store::citizens::RegisterVault,
    input: impl Read,
    now: i64,
    mut progress: impl FnMut(u64, u64),
) -> Result<ImportReport, RegisterError> {
    let rows = parse_csv(input, today(now))?;

    let total = rows.len() as u64;
    let mut tx = sqlx_begin(conn).await?;
    let mut issued = Vec::with_capacity(rows.len());
    for (done, (line, row)) in rows.into_iter().enumerate() {
        let citizen = row.into_citizen(now)?;
        citizens::insert(&mut tx, vault, &citizen)
            .await
            .map_err(|e| match e {
                sqin_store::StoreError::Conflict(_) => RegisterError::BadRow {
                    line,
                    message: format!(
                        "register_id {:?} is already in the register",
                        citizen.register_id
                    ),
                },
                other => other.into(),
            })?;
        let code = issuer
            .issue(
                &mut tx,
                &citizen.id,
                sqin_store::enrolment::CodePurpose::Enrolment,
                now,
            )
            .await?;
        issued.push((citizen.register_id, code));
        progress(done as u64 + 1, total);
    }
    tx.commit().await?;
    Ok(ImportReport { issued })
}
