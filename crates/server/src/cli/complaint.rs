//! `sqin complaint`: the privacy officer's side of the complaints citizens
//! file (pia/governance.md, section 6).
use clap::Subcommand;
use serde_json::json;
use sqin_app::Services;

use super::{print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum ComplaintCommand {
    /// List complaints: number, received, answer due, answered (no text).
    List {
        /// Only those not answered yet.
        #[arg(long)]
        open: bool,
    },
    /// Open a complaint and print it; recorded in the complainant's ledger
    /// as a look at their file.
    Show {
        id: String,
        /// Your staff identifier.
        #[arg(long)]
        staff: String,
    },
    /// Answer a complaint, which closes it; the complainant reads the
    /// answer on their complaints page. Recorded like `show`.
    Answer {
        id: String,
        #[arg(long)]
        staff: String,
        /// The answer, with findings, measures and the complainant's recourse.
        #[arg(long)]
        text: String,
    },
}

fn complaint_json(
    c: &sqin_store::complaints::Complaint,
    with_text: bool,
    now: i64,
) -> serde_json::Value {
    let mut out = json!({
        "id": c.id,
        "received_at": rfc3339(c.received_at),
        "answer_due": rfc3339(c.answer_due),
        "answered_at": c.closed_at.map(rfc3339),
        "overdue": c.closed_at.is_none() && c.answer_due < now,
    });
    if with_text {
        out["subject"] = json!(c.subject);
        out["facts"] = json!(c.facts);
        out["answer"] = json!(c.answer);
        out["answered_by"] = json!(c.answered_by);
    }
    out
}

/// `sqin complaint list|show|answer`.
pub async fn run(services: &Services, cmd: ComplaintCommand) -> anyhow::Result<()> {
    match cmd {
        ComplaintCommand::List { open } => {
            let mut conn = services.store.pool().acquire().await?;
            let all = sqin_store::complaints::list(&mut conn, open).await?;
            print_json(&json!(all
                .iter()
                .map(|c| complaint_json(c, false, services.now()))
                .collect::<Vec<_>>()))?;
        }
        ComplaintCommand::Show { id, staff } => {
            let c = sqin_app::complaints::open(services, &id, &staff, services.now()).await?;
            print_json(&complaint_json(&c, true, services.now()))?;
        }
        ComplaintCommand::Answer { id, staff, text } => {
            let c =
                sqin_app::complaints::answer(services, &id, &staff, &text, services.now()).await?;
            print_json(&complaint_json(&c, true, services.now()))?;
            eprintln!("complaint {id} is answered and closed; it is deleted two years from now");
        }
    }
    Ok(())
}
