//! `sqin pia`: the privacy impact assessment this binary runs under:
//! check one against the code, or render it for reviewers.
use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum PiaCommand {
    /// Check an inventory (FILE, else `pia_file`, else the built-in one)
    /// as the server does at start-up: valid, and describing this code.
    /// Prints a summary with the ledger's retention; exits 1 naming every
    /// difference otherwise. Needs no database.
    Check { file: Option<PathBuf> },
    /// Print the inventory (FILE, else `pia_file`, else the built-in one) as
    /// the Markdown document a reviewer reads (pia/inventory.md).
    Render { file: Option<PathBuf> },
}

/// `sqin pia check|render`.
pub fn run(config: &crate::Config, cmd: PiaCommand) -> anyhow::Result<()> {
    let (PiaCommand::Check { file } | PiaCommand::Render { file }) = &cmd;
    let adopted = sqin_app::pia::load(file.as_deref().or(config.pia_file.as_deref()))?;
    match cmd {
        PiaCommand::Check { .. } => {
            print_json(&json!({
                "source": adopted.source,
                "elements": adopted.pia.inventory().elements.len(),
                "relying_parties": adopted.pia.inventory().relying_parties.len(),
                "ledger_retention_days": adopted.ledger_retention,
            }))?;
            eprintln!(
                "the PIA inventory ({}) is valid and describes this code",
                adopted.source
            );
        }
        PiaCommand::Render { .. } => {
            let mut out = std::io::stdout().lock();
            out.write_all(adopted.pia.render_markdown().as_bytes())?;
        }
    }
    Ok(())
}
