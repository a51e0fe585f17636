//! `sqin staff`: staff access to a citizen's file, as the PIA's roles
//! allow, recorded in the ledger before anything is shown.
use anyhow::Context;
use clap::Subcommand;
use sqin_app::Services;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Look a citizen's file up: shows the elements the role may read per
    /// the PIA, checks the values given with --verify, and writes a
    /// `staff_access` entry (who, role, purpose, which elements) to the
    /// ledger first; the citizen sees it under "Who looked at my file".
    Lookup {
        /// The register identifier the caller states.
        register_id: String,
        /// Your staff identifier.
        #[arg(long)]
        staff: String,
        /// The role you act in (a staff role of the PIA: support, registrar, privacy-officer).
        #[arg(long)]
        role: String,
        /// Why you look, in words (recorded, shown to the citizen).
        #[arg(long)]
        purpose: String,
        /// A value the caller states, to check without seeing the stored one
        /// (repeatable): ELEMENT=VALUE, e.g. citizen.birthdate=1984-03-02.
        #[arg(long = "verify")]
        verify: Vec<String>,
    },
}

/// `sqin staff lookup`.
pub async fn run(services: &Services, cmd: StaffCommand) -> anyhow::Result<()> {
    match cmd {
        StaffCommand::Lookup {
            register_id,
            staff,
            role,
            purpose,
            verify,
        } => {
            let verify = verify
                .iter()
                .map(|v| {
                    v.split_once('=')
                        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                        .with_context(|| format!("--verify {v:?}: expected ELEMENT=VALUE"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let result = sqin_app::staff::lookup(
                services,
                &sqin_app::staff::LookupRequest {
                    register_id,
                    staff_id: staff,
                    role,
                    purpose,
                    verify,
                },
                services.now(),
            )
            .await?;
            print_json(&serde_json::to_value(&result)?)?;
            eprintln!("this access is recorded in the ledger and shown to the citizen");
        }
    }
    Ok(())
}
