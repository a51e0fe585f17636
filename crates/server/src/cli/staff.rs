//! `sqin staff`: the operator's part of the staff plane. On the server
//! host, the operator creates the first privacy officer and administrator
//! (`invite`); after that, staff are invited and granted roles in the staff
//! console, with a second person's approval. Every command here is a public
//! governance entry of the ledger ("operator"). Nothing here shows a
//! citizen's data: look-ups, complaints, recovery and closures are in the
//! console.
use clap::Subcommand;
use serde_json::json;
use sqin_app::Services;

use super::{print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a member of staff holding ROLE at once (the bootstrap: only
    /// while nobody holding a live role can grant ROLE from the console).
    /// Prints their badge and a one-time invitation code to give them in
    /// person; they enrol a passkey with it at the staff console.
    Invite {
        /// Their name, as the staff console shows it.
        #[arg(long)]
        name: String,
        /// A staff role of the PIA (privacy-officer, administrator, ...).
        #[arg(long)]
        role: String,
        /// Why (recorded in the ledger's governance entries).
        #[arg(long, default_value = "first members of the staff plane")]
        reason: String,
    },
}

/// `sqin staff invite`.
pub async fn run(services: &Services, cmd: StaffCommand) -> anyhow::Result<()> {
    match cmd {
        StaffCommand::Invite { name, role, reason } => {
            let invitation =
                sqin_app::staff::directory::bootstrap_invite(services, &name, &role, &reason)
                    .await?;
            print_json(&json!({
                "badge": invitation.member.badge,
                "role": role,
                "invitation_code": invitation.code.expose(),
                "expires_at": rfc3339(invitation.expires_at),
                "enrol_at": format!("{}/enrol", services.settings.staff_url.as_str().trim_end_matches('/')),
            }))?;
            eprintln!(
                "give the code to {} in person; it is shown once and works until it expires; the invitation is recorded in the ledger",
                invitation.member.badge
            );
        }
    }
    Ok(())
}
