//! `sqin report`: the report for the Commission over a period
//! ([`sqin_app::report`]), as one self-contained HTML file or as JSON.
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, ValueEnum};

use super::{parse_day, write_output};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One HTML file, inline CSS and SVG, no script.
    Html,
    /// The same figures as JSON (`sqin-commission-report/1`).
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First day of the period (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub from: String,
    /// Last day of the period, included (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub to: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// The HTML's language: fr or en.
    #[arg(long, default_value = "fr")]
    pub lang: String,
    /// Output file (written whole or not at all); standard output if absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn run(services: &sqin_app::Services, args: ReportArgs) -> anyhow::Result<()> {
    if !matches!(args.lang.as_str(), "fr" | "en") {
        bail!("--lang {:?}: the report is written in fr or en", args.lang);
    }
    let from = parse_day(&args.from, "from")?;
    let to = parse_day(&args.to, "to")? + 86_400;
    if to <= from {
        bail!(
            "--to {} is before --from {}: the period must end after it starts",
            args.to,
            args.from
        );
    }
    let report = sqin_app::report::build(services, from, to).await?;
    let text = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&report)?,
        ReportFormat::Html => sqin_app::report::render_html(&report, &args.lang),
    };
    write_output(args.output.as_deref(), &text)?;
    if let Some(path) = &args.output {
        eprintln!(
            "wrote the report for {} to {} ({} sign-ins, {} complaints) to {}",
            args.from,
            args.to,
            report.sign_ins.iter().map(|c| c.count).sum::<u64>(),
            report.complaints.received,
            path.display()
        );
    }
    Ok(())
}
