//! The register of confidentiality incidents (pia/incidents.md, section 5):
//! entries are written once, follow-up is added as dated lines.
use sqlx::{AnyConnection, Row};

use crate::{json_list, to_json_list, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: String,
    pub recorded_at: i64,
    pub recorded_by: String,
    pub information: String,
    pub elements: Vec<String>,
    pub circumstances: String,
    pub occurred: String,
    pub aware_at: i64,
    pub persons: String,
    pub sensitivity: i64,
    pub consequences: i64,
    pub likelihood: i64,
    pub serious: bool,
    pub reasoning: String,
    pub measures: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentLine {
    pub incident_id: String,
    pub at: i64,
    pub by_staff: String,
    pub kind: String,
    pub text: String,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Incident> {
    Ok(Incident {
        id: r.try_get("id")?,
        recorded_at: r.try_get("recorded_at")?,
        recorded_by: r.try_get("recorded_by")?,
        information: r.try_get("information")?,
        elements: json_list(&r.try_get::<String, _>("elements")?, "elements")?,
        circumstances: r.try_get("circumstances")?,
        occurred: r.try_get("occurred")?,
        aware_at: r.try_get("aware_at")?,
        persons: r.try_get("persons")?,
        sensitivity: r.try_get("sensitivity")?,
        consequences: r.try_get("consequences")?,
        likelihood: r.try_get("likelihood")?,
        serious: r.try_get::<i64, _>("serious")? == 1,
        reasoning: r.try_get("reasoning")?,
        measures: r.try_get("measures")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, i: &Incident) -> Result<()> {
    sqlx::query(
        "INSERT INTO incidents (id, recorded_at, recorded_by, information, elements, circumstances,
            occurred, aware_at, persons, sensitivity, consequences, likelihood, serious, reasoning,
            measures)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&i.id)
    .bind(i.recorded_at)
    .bind(&i.recorded_by)
    .bind(&i.information)
    .bind(to_json_list(&i.elements))
    .bind(&i.circumstances)
    .bind(&i.occurred)
    .bind(i.aware_at)
    .bind(&i.persons)
    .bind(i.sensitivity)
    .bind(i.consequences)
    .bind(i.likelihood)
    .bind(i64::from(i.serious))
    .bind(&i.reasoning)
    .bind(&i.measures)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "incident with this number"))?;
    Ok(())
}

pub async fn add_line(conn: &mut AnyConnection, l: &IncidentLine) -> Result<()> {
    sqlx::query(
        "INSERT INTO incident_lines (incident_id, at, by_staff, kind, text) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&l.incident_id)
    .bind(l.at)
    .bind(&l.by_staff)
    .bind(&l.kind)
    .bind(&l.text)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Incident>> {
    let row = sqlx::query("SELECT * FROM incidents WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The whole register, oldest first.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Incident>> {
    let rows = sqlx::query("SELECT * FROM incidents ORDER BY aware_at, id")
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// An entry's follow-up lines, in order.
pub async fn lines(conn: &mut AnyConnection, incident_id: &str) -> Result<Vec<IncidentLine>> {
    let rows = sqlx::query("SELECT * FROM incident_lines WHERE incident_id = $1 ORDER BY id")
        .bind(incident_id)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(IncidentLine {
                incident_id: r.try_get("incident_id")?,
                at: r.try_get("at")?,
                by_staff: r.try_get("by_staff")?,
                kind: r.try_get("kind")?,
                text: r.try_get("text")?,
            })
        })
        .collect()
}
