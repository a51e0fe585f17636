//! `sqin citizen`: the citizen register (import, add, reissue a code,
//! close an account).
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::json;
use sqin_app::Services;
use sqin_register::{import_csv, NewCitizen};
use sqin_store::citizens;
use sqin_store::enrolment::CodePurpose;

use super::{print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Import a register extract (CSV: register_id, given_name, family_name,
    /// birthdate, and optionally email, address, locale). All rows or none.
    /// Prints `register_id,enrolment_code` for each citizen, once.
    Import { file: PathBuf },
    /// Add one citizen and print their enrolment code, once.
    Add(AddCitizen),
    /// Issue a new code for a citizen (lost passkey); earlier codes stop working.
    ReissueCode { register_id: String },
    /// Close a citizen's account for good: relying parties are told
    /// (back-channel logout), every token is revoked, the citizen's ledger
    /// history is crypto-shredded (the shredding is logged; proofs stay
    /// valid), and the account and everything keyed to it is deleted. One
    /// transaction: all of it or nothing. Prints what was done as JSON.
    Delete {
        register_id: String,
        /// Confirms the deletion; without it nothing is changed.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddCitizen {
    #[arg(long)]
    pub register_id: String,
    #[arg(long)]
    pub given_name: String,
    #[arg(long)]
    pub family_name: String,
    /// ISO 8601 date, YYYY-MM-DD.
    #[arg(long)]
    pub birthdate: String,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    /// fr or en (optionally with a region, e.g. fr-CA).
    #[arg(long)]
    pub locale: Option<String>,
}

/// `sqin citizen ...`.
pub async fn run(services: &Services, cmd: CitizenCommand) -> anyhow::Result<()> {
    let mut conn = services.store.pool().acquire().await?;
    match cmd {
        CitizenCommand::Import { file } => {
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} importing {pos}/{len} citizens {wide_bar} {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = import_csv(
                &mut conn,
                &services.codes,
                input,
                services.now(),
                |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
            bar.finish_and_clear();
            let mut out = std::io::stdout().lock();
            writeln!(out, "register_id,enrolment_code,expires_at")?;
            for (register_id, code) in &report.issued {
                writeln!(
                    out,
                    "{register_id},{},{}",
                    code.code.expose(),
                    rfc3339(code.expires_at)
                )?;
            }
            eprintln!(
                "imported {} citizens; their enrolment codes are above and are not stored in clear anywhere",
                report.issued.len()
            );
        }
        CitizenCommand::Add(a) => {
            let (citizen, code) = sqin_register::add_citizen(
                &mut conn,
                &services.codes,
                NewCitizen {
                    register_id: a.register_id,
                    given_name: a.given_name,
                    family_name: a.family_name,
                    birthdate: a.birthdate,
                    email: a.email,
                    address: a.address,
                    locale: a.locale,
                },
                services.now(),
            )
            .await?;
            print_json(&json!({
                "register_id": citizen.register_id,
                "enrolment_code": code.code.expose(),
                "expires_at": rfc3339(code.expires_at),
            }))?;
        }
        CitizenCommand::Delete { register_id, yes } => {
            if !yes {
                bail!(
                    "deleting {register_id}'s account destroys their passkeys, sessions, consents and tokens and shreds their ledger history, and cannot be undone; run again with --yes to confirm"
                );
            }
            drop(conn);
            let closed = sqin_app::account::close(services, &register_id, services.now()).await?;
            print_json(&serde_json::to_value(&closed)?)?;
            return Ok(());
        }
        CitizenCommand::ReissueCode { register_id } => {
            let citizen = citizens::by_register_id(&mut conn, &register_id)
                .await?
                .with_context(|| format!("no citizen with register_id {register_id}"))?;
            let mut tx = sqin_store::begin_on(&mut conn).await?;
            let code = services
                .codes
                .issue(&mut tx, &citizen.id, CodePurpose::Recovery, services.now())
                .await?;
            // Shown on the citizen's account page and handed to the ledger.
            sqin_webauthn::events::record(
                &mut tx,
                &citizen.id,
                &sqin_webauthn::SecurityEvent::CodeReissued {
                    purpose: CodePurpose::Recovery.as_str().into(),
                },
                services.now(),
            )
            .await?;
            tx.commit().await?;
            print_json(&json!({
                "register_id": citizen.register_id,
                "enrolment_code": code.code.expose(),
                "expires_at": rfc3339(code.expires_at),
                "purpose": "recovery",
            }))?;
        }
    }
    Ok(())
}
