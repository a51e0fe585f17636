//! The register of confidentiality incidents (A-2.1 s. 63.11; r. 3.1 s. 7;
//! pia/incidents.md): what the privacy officer records, with the risk grid
//! of section 3 applied by code.
//!
//! The sensitivity score is not typed by hand: it is the highest
//! sensitivity the PIA gives the elements concerned. The officer scores the
//! consequences and the likelihood of injurious use; the decision rule of
//! pia/incidents.md then says whether the risk of serious injury is
//! presumed, and the officer can only make it stricter ("when in doubt,
//! treat the risk as serious"). Entries are never rewritten: notices sent,
//! measures, corrections and closure are added as dated lines.
use serde::Serialize;
use sqin_pia::Sensitivity;
use sqin_store::incidents::{self, Incident, IncidentLine};

use crate::{AppError, AppResult, Services};

/// What the privacy officer records.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub recorded_by: String,
    pub information: String,
    /// Inventory element ids concerned.
    pub elements: Vec<String>,
    pub circumstances: String,
    pub occurred: String,
    pub aware_at: i64,
    pub persons: String,
    /// 1 to 3 (pia/incidents.md, section 3).
    pub consequences: i64,
    /// 1 to 3.
    pub likelihood: i64,
    /// Treat the risk as serious whatever the scores.
    pub serious_anyway: bool,
    pub reasoning: String,
    pub measures: String,
}

/// The kinds of follow-up line.
pub const LINE_KINDS: [&str; 6] = [
    "notice_commission",
    "notice_persons",
    "public_notice",
    "measure",
    "correction",
    "closed",
];

/// The decision rule of pia/incidents.md, section 3.
pub fn presumed_serious(sensitivity: i64, consequences: i64, likelihood: i64) -> bool {
    likelihood >= 2
        && (sensitivity == 3 || consequences == 3)
        && sensitivity + consequences + likelihood >= 7
}

fn required(what: &str, text: &str) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 10_000 {
        return Err(AppError::Refused(format!(
            "{what} is required (at most 10 000 characters)"
        )));
    }
    Ok(text.to_owned())
}

/// Records a new entry; its number is returned with it.
pub async fn record(services: &Services, new: NewIncident, now: i64) -> AppResult<Incident> {
    let pia = &services.pia.pia;
    if new.elements.is_empty() {
        return Err(AppError::Refused(
            "name the inventory elements concerned (--element citizen.birthdate ...)".into(),
        ));
    }
    let mut sensitivity = 0;
    for id in &new.elements {
        let element = pia.element(id).ok_or_else(|| {
            AppError::Refused(format!("{id} is not an element of the PIA inventory"))
        })?;
        let score = match element.sensitivity {
            Sensitivity::Low => 1,
            Sensitivity::Medium => 2,
            Sensitivity::High => 3,
        };
        sensitivity = sensitivity.max(score);
    }
    for (name, score) in [
        ("consequences", new.consequences),
        ("likelihood", new.likelihood),
    ] {
        if !(1..=3).contains(&score) {
            return Err(AppError::Refused(format!(
                "{name} is scored 1, 2 or 3 (pia/incidents.md, section 3)"
            )));
        }
    }
    let serious =
        new.serious_anyway || presumed_serious(sensitivity, new.consequences, new.likelihood);
    let mut conn = services.store.pool().acquire().await?;
    let day = sqin_ledger_service::history::rfc3339(now);
    let day: String = day.chars().take(10).filter(|c| *c != '-').collect();
    let number = {
        let existing = incidents::list(&mut conn).await?;
        let same_day = existing
            .iter()
            .filter(|i| i.id.starts_with(&format!("I-{day}-")))
            .count();
        format!("I-{day}-{:02}", same_day + 1)
    };
    let incident = Incident {
        id: number,
        recorded_at: now,
        recorded_by: required("--by (your staff identifier)", &new.recorded_by)?,
        information: required("--information", &new.information)?,
        elements: new.elements,
        circumstances: required("--circumstances", &new.circumstances)?,
        occurred: required("--occurred", &new.occurred)?,
        aware_at: new.aware_at,
        persons: required("--persons", &new.persons)?,
        sensitivity,
        consequences: new.consequences,
        likelihood: new.likelihood,
        serious,
        reasoning: required("--reasoning", &new.reasoning)?,
        measures: required("--measures", &new.measures)?,
    };
    incidents::insert(&mut conn, &incident).await?;
    tracing::info!(incident = %incident.id, serious, "confidentiality incident recorded");
    Ok(incident)
}

/// Adds a dated follow-up line to an entry.
pub async fn add_line(
    services: &Services,
    id: &str,
    by: &str,
    kind: &str,
    text: &str,
    now: i64,
) -> AppResult<()> {
    if !LINE_KINDS.contains(&kind) {
        return Err(AppError::Refused(format!(
            "the kind of line is one of {}",
            LINE_KINDS.join(", ")
        )));
    }
    let mut conn = services.store.pool().acquire().await?;
    incidents::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no incident {id}")))?;
    incidents::add_line(
        &mut conn,
        &IncidentLine {
            incident_id: id.to_owned(),
            at: now,
            by_staff: required("--by", by)?,
            kind: kind.to_owned(),
            text: required("--text", text)?,
        },
    )
    .await?;
    Ok(())
}

/// One entry of the register as given to the Commission (the fields of
/// r. 3.1 s. 7, numbered, and the follow-up).
#[derive(Debug, Clone, Serialize)]
pub struct RegisterEntry {
    pub number: String,
    pub recorded_at: String,
    pub recorded_by: String,
    #[serde(rename = "1_information_concerned")]
    pub information: String,
    pub inventory_elements: Vec<String>,
    #[serde(rename = "2_circumstances")]
    pub circumstances: String,
    #[serde(rename = "3_date_or_period")]
    pub occurred: String,
    #[serde(rename = "4_became_aware")]
    pub aware: String,
    #[serde(rename = "5_persons_concerned")]
    pub persons: String,
    #[serde(rename = "6_risk")]
    pub risk: serde_json::Value,
    #[serde(rename = "7_notices")]
    pub notices: Vec<serde_json::Value>,
    #[serde(rename = "8_measures")]
    pub measures: Vec<String>,
    pub lines: Vec<serde_json::Value>,
}

/// The whole register, for the privacy officer and the Commission.
pub async fn register(services: &Services) -> AppResult<Vec<RegisterEntry>> {
    let rfc = sqin_ledger_service::history::rfc3339;
    let mut conn = services.store.pool().acquire().await?;
    let mut out = Vec::new();
    for i in incidents::list(&mut conn).await? {
        let lines = incidents::lines(&mut conn, &i.id).await?;
        let mut measures = vec![i.measures.clone()];
        measures.extend(
            lines
                .iter()
                .filter(|l| l.kind == "measure")
                .map(|l| l.text.clone()),
        );
        out.push(RegisterEntry {
            number: i.id.clone(),
            recorded_at: rfc(i.recorded_at),
            recorded_by: i.recorded_by.clone(),
            information: i.information.clone(),
            inventory_elements: i.elements.clone(),
            circumstances: i.circumstances.clone(),
            occurred: i.occurred.clone(),
            aware: rfc(i.aware_at),
            persons: i.persons.clone(),
            risk: serde_json::json!({
                "sensitivity": i.sensitivity,
                "consequences": i.consequences,
                "likelihood": i.likelihood,
                "serious": i.serious,
                "reasoning": i.reasoning,
            }),
            notices: lines
                .iter()
                .filter(|l| l.kind.ends_with("notice") || l.kind.starts_with("notice"))
                .map(|l| serde_json::json!({ "kind": l.kind, "at": rfc(l.at), "text": l.text }))
                .collect(),
            measures,
            lines: lines
                .iter()
                .map(|l| serde_json::json!({ "kind": l.kind, "at": rfc(l.at), "by": l.by_staff, "text": l.text }))
                .collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decision_rule_matches_the_worked_examples() {
        // pia/incidents.md, section 3.
        assert!(
            presumed_serious(3, 3, 3),
            "database copy taken by an intruder"
        );
        assert!(!presumed_serious(3, 3, 1), "encrypted tape lost, key safe");
        assert!(presumed_serious(3, 2, 3), "letters stolen from a mailroom");
        assert!(!presumed_serious(2, 2, 2));
        assert!(!presumed_serious(1, 3, 2), "total 6");
    }
}
