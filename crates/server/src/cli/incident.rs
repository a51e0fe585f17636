//! `sqin incident`: the register of confidentiality incidents (A-2.1 s.
//! 63.11), for the privacy officer (pia/incidents.md).
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use sqin_app::Services;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Record an incident (every one, serious or not). The sensitivity score
    /// is the highest the PIA gives the elements concerned; you score the
    /// consequences and the likelihood (1 to 3, pia/incidents.md section 3)
    /// and the decision rule says whether the risk of serious injury is
    /// presumed (--serious makes it so anyway). Prints the entry.
    Record(Box<RecordIncident>),
    /// Add a dated line to an entry: a notice sent, a measure, a correction,
    /// the closure (entries are never rewritten).
    Add {
        number: String,
        #[arg(long)]
        by: String,
        /// notice_commission, notice_persons, public_notice, measure, correction or closed.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        text: String,
    },
    /// The whole register as JSON (the fields of r. 3.1 s. 7, numbered),
    /// as given to the Commission on request.
    Export,
}

#[derive(Debug, Args)]
pub struct RecordIncident {
    /// Your staff identifier.
    #[arg(long)]
    pub by: String,
    /// 1: the personal information concerned.
    #[arg(long)]
    pub information: String,
    /// Its inventory element ids (repeatable), e.g. citizen.birthdate.
    #[arg(long = "element", required = true)]
    pub elements: Vec<String>,
    /// 2: the circumstances.
    #[arg(long)]
    pub circumstances: String,
    /// 3: the date or period of the incident.
    #[arg(long)]
    pub occurred: String,
    /// 4: the day the body became aware of it (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub aware: String,
    /// 5: the number (or approximate number) of persons concerned.
    #[arg(long)]
    pub persons: String,
    /// Consequences if misused, 1 to 3.
    #[arg(long)]
    pub consequences: i64,
    /// Likelihood of injurious use, 1 to 3.
    #[arg(long)]
    pub likelihood: i64,
    /// Treat the risk as serious whatever the scores.
    #[arg(long)]
    pub serious: bool,
    /// 6: why (the elements of the assessment).
    #[arg(long)]
    pub reasoning: String,
    /// 8: the measures taken to reduce the risk.
    #[arg(long)]
    pub measures: String,
}

/// `sqin incident record|add|export`.
pub async fn run(services: &Services, cmd: IncidentCommand) -> anyhow::Result<()> {
    match cmd {
        IncidentCommand::Record(r) => {
            let aware_at = parse_day(&r.aware).context("--aware must be YYYY-MM-DD")?;
            let entry = sqin_app::incidents::record(
                services,
                sqin_app::incidents::NewIncident {
                    recorded_by: r.by,
                    information: r.information,
                    elements: r.elements,
                    circumstances: r.circumstances,
                    occurred: r.occurred,
                    aware_at,
                    persons: r.persons,
                    consequences: r.consequences,
                    likelihood: r.likelihood,
                    serious_anyway: r.serious,
                    reasoning: r.reasoning,
                    measures: r.measures,
                },
                services.now(),
            )
            .await?;
            print_json(&json!({
                "number": entry.id,
                "sensitivity": entry.sensitivity,
                "consequences": entry.consequences,
                "likelihood": entry.likelihood,
                "serious": entry.serious,
            }))?;
            if entry.serious {
                eprintln!(
                    "risk of serious injury: notify the Commission and the persons concerned promptly (pia/incidents.md, section 4), then record each notice with `sqin incident add {} --kind notice_commission|notice_persons`",
                    entry.id
                );
            } else {
                eprintln!("not serious by the grid; the reasoning is on record and is revisited if new facts appear");
            }
        }
        IncidentCommand::Add {
            number,
            by,
            kind,
            text,
        } => {
            sqin_app::incidents::add_line(services, &number, &by, &kind, &text, services.now())
                .await?;
            eprintln!("added a {kind} line to {number}");
        }
        IncidentCommand::Export => {
            let register = sqin_app::incidents::register(services).await?;
            print_json(&serde_json::to_value(&register)?)?;
        }
    }
    Ok(())
}

/// A calendar day (YYYY-MM-DD) as the Unix time of its start, UTC.
fn parse_day(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}
