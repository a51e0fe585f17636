//! `sqin citizen`: the bulk import from the register-holding body (a
//! register extract, or one citizen), which prints each enrolment code once
//! for the mail merge. Recovery codes and account closures are four-eyes
//! requests in the staff console; nothing here shows a citizen's file.
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use sqin_app::Services;
use sqin_register::{import_csv, NewCitizen};

use super::{print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Import a register extract (CSV: register_id, given_name, family_name,
    /// birthdate, and optionally email, address, locale). All rows or none.
    /// Prints `register_id,enrolment_code` for each citizen, once.
    Import { file: PathBuf },
    /// Add one citizen and print their enrolment code, once.
    Add(AddCitizen),
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
                &services.register,
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
            let count = report.issued.len().to_string();
            sqin_app::staff::record_operator_action(
                services,
                "register.imported",
                &[("citizens", &count)],
            )
            .await?;
            eprintln!(
                "imported {} citizens; their enrolment codes are above and are not stored in clear anywhere",
                report.issued.len()
            );
        }
        CitizenCommand::Add(a) => {
            let (citizen, code) = sqin_register::add_citizen(
                &mut conn,
                &services.codes,
                &services.register,
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
            sqin_app::staff::record_operator_action(
                services,
                "register.imported",
                &[("citizens", "1")],
            )
            .await?;
            print_json(&json!({
                "register_id": citizen.register_id,
                "enrolment_code": code.code.expose(),
                "expires_at": rfc3339(code.expires_at),
            }))?;
        }
    }
    Ok(())
}
