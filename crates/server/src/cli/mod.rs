//! The command line, one module per noun (`citizen`, `client`, `keys`,
//! `ledger`, ...), each with its subcommands and the one function that runs
//! them. [`run`] is the single dispatch: commands that need the database
//! get their services from one bootstrap path ([`crate::open`]).
use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, Subcommand};

pub mod citizen;
pub mod client;
pub mod incident;
pub mod keys;
pub mod ledger;
pub mod pia;
pub mod report;
pub mod serve;
pub mod staff;
pub mod witness;

pub use citizen::CitizenCommand;
pub use client::ClientCommand;
pub use incident::IncidentCommand;
pub use keys::KeysCommand;
pub use ledger::LedgerCommand;
pub use pia::PiaCommand;
pub use staff::StaffCommand;
pub use witness::WitnessCommand;

#[derive(Debug, Parser)]
#[command(
    name = "sqin",
    version,
    about = "sqin: a federated digital identity provider for governments (OpenID Connect, passkeys, consent ledger)"
)]
pub struct Cli {
    /// Configuration file (TOML). Every key can also be set as SQIN_<KEY>.
    #[arg(long, short, global = true, env = "SQIN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Also load the synthetic demo (a demo relying party and citizens).
        #[arg(long)]
        demo: bool,
    },
    /// Run the server with synthetic demo data in `var/demo.db`.
    Demo,
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration and print it (secrets are never printed).
    Config,
    /// The citizen register.
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// Relying parties (ministry services).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The consent ledger: verify, export, purge, checkpoint.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The register of confidentiality incidents (A-2.1 s. 63.11), for the
    /// privacy officer (pia/incidents.md).
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// The staff plane's bootstrap: the first privacy officer and
    /// administrator (the rest is done in the staff console).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// A witness of someone else's consent ledger (C2SP tlog-witness), run by
    /// an independent party such as the Commission.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// The privacy impact assessment this binary runs under: check one
    /// against the code, or render it for reviewers.
    #[command(subcommand)]
    Pia(PiaCommand),
    /// The report for the Commission over a period: sign-ins, disclosures,
    /// staff accesses, complaints, incidents, purges, witnesses; HTML (one
    /// self-contained file with inline SVG charts) or JSON, in counts only.
    Report(report::ReportArgs),
    /// Delete, once, what is past the retention the PIA sets (sessions,
    /// consents, grants, codes, security events, logout notices,
    /// never-enrolled registrations); `sqin serve` does it every
    /// `ledger_purge_interval_secs`. Prints what it deleted as JSON. The
    /// ledger's own purge is `sqin ledger purge`.
    Retention,
}

pub(crate) fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// A day given on the command line (YYYY-MM-DD, UTC) as the Unix time of
/// its midnight; `what` names the option in the error.
pub(crate) fn parse_day(text: &str, what: &str) -> anyhow::Result<i64> {
    use anyhow::Context as _;
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|d| d.midnight().assume_utc().unix_timestamp())
    .with_context(|| format!("--{what} {text:?} is not a date (YYYY-MM-DD)"))
}

/// Writes `text` to `path` whole or not at all (a `.partial` file renamed),
/// or to standard output.
pub(crate) fn write_output(path: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    match path {
        Some(path) => {
            let partial = path.with_extension("partial");
            std::fs::write(&partial, text)
                .with_context(|| format!("cannot write {}", partial.display()))?;
            std::fs::rename(&partial, path)
                .with_context(|| format!("cannot rename to {}", path.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// Refuses to run a command when the configuration names no database we can use.
pub fn check_args(cli: &Cli) -> anyhow::Result<()> {
    if let Some(path) = &cli.config {
        if !path.exists() {
            bail!("configuration file {} does not exist", path.display());
        }
    }
    Ok(())
}

pub(crate) fn progress_bar(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{pos}}/{{len}} {{wide_bar}} {{per_sec}} {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// A flag set by Ctrl-C, so long runs stop between consistent steps.
pub(crate) fn cancel_on_ctrl_c() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: stopping at the next consistent point");
            set.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    flag
}

/// Runs a parsed command under `config` (already loaded, with tracing set
/// up by `main`).
pub async fn run(command: Command, config: crate::Config) -> anyhow::Result<()> {
    match command {
        Command::Config => serve::show_config(&config),
        Command::Migrate => serve::migrate(&config).await,
        Command::Serve { demo } => serve::serve(config, demo).await,
        Command::Demo => serve::serve(config, true).await,
        Command::Pia(cmd) => pia::run(&config, cmd),
        Command::Witness(cmd) => witness::run(cmd).await,
        // `ledger verify --export` needs no database: the module opens the
        // services itself when it does.
        Command::Ledger(cmd) => ledger::run(&config, cmd).await,
        Command::Citizen(cmd) => citizen::run(&crate::open(&config).await?, cmd).await,
        Command::Client(cmd) => client::run(&crate::open(&config).await?, cmd).await,
        Command::Keys(cmd) => keys::run(&crate::open(&config).await?, cmd).await,
        Command::Incident(cmd) => incident::run(&crate::open(&config).await?, cmd).await,
        Command::Staff(cmd) => staff::run(&crate::open(&config).await?, cmd).await,
        Command::Report(args) => report::run(&crate::open(&config).await?, args).await,
        Command::Retention => {
            let services = crate::open(&config).await?;
            let report = sqin_app::retention::run(&services, services.now()).await?;
            let summary = report.summary();
            sqin_app::staff::record_operator_action(
                &services,
                "retention.run",
                &[("deleted", &summary)],
            )
            .await?;
            print_json(&serde_json::to_value(&report)?)
        }
    }
}
