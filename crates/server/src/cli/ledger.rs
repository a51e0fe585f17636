//! `sqin ledger`: verify, export, purge, checkpoint and rotate the consent
//! ledger's key. `verify --export` runs offline.
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::json;

use super::{cancel_on_ctrl_c, parse_day, print_json, progress_bar, write_output};

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Rebuild the ledger's tree from its entries and check it against every
    /// stored checkpoint signature, every stored tree node, and any
    /// checkpoint given; names the first bad entry. With --export, verify an
    /// export offline (no database, no key-encryption key). Exits 1 when the
    /// ledger does not verify.
    Verify(LedgerVerify),
    /// Write the ledger as JSON Lines (entries, stored leaf hashes, every
    /// checkpoint; pseudonyms and ciphertext only, no personal data in clear)
    /// for a reviewer to check with `sqin ledger verify --export`.
    ///
    /// With `--kind governance`: only what was done to the service itself
    /// (relying parties, keys, staff, retention...) in a period, each entry
    /// with its inclusion proof in a checkpoint signed now, for a reviewer
    /// to check with `sqin ledger verify --governance FILE --vkey ...`.
    Export {
        /// Output file (written whole or not at all); standard output if absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// `governance`: the governance entries of a period, with proofs.
        #[arg(long, value_enum)]
        kind: Option<ExportKind>,
        /// Start of the period (YYYY-MM-DD, UTC); with --kind.
        #[arg(long, requires = "kind")]
        from: Option<String>,
        /// End of the period, included (YYYY-MM-DD, UTC); with --kind.
        #[arg(long, requires = "kind")]
        to: Option<String>,
    },
    /// Destroy, by crypto-shredding, the personal details past their
    /// retention (set by the PIA, `pia_file`); each batch is logged in the
    /// ledger. Ctrl-C stops after the current batch; run again to resume.
    Purge {
        /// Only count what is due.
        #[arg(long)]
        dry_run: bool,
        /// Keys destroyed per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// Sign a checkpoint now if the ledger grew (always with --force) and
    /// print the latest checkpoint note.
    Checkpoint {
        #[arg(long)]
        force: bool,
    },
    /// Replace the checkpoint signing key (for example after a suspected
    /// compromise of the key-encryption key): a `checkpoint_key_rotated`
    /// entry names the old and the new verifier key, the checkpoint that
    /// ends with it is signed by both, the old private key is deleted, and
    /// every node signs with the new key from its next checkpoint. Reviewers
    /// who pinned the old key follow the change. Prints the rotation as
    /// JSON; publish the new key (/ledger/vkey) where the old one was.
    RotateKey,
}

/// What a partial export holds.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportKind {
    Governance,
}

#[derive(Debug, Args)]
pub struct LedgerVerify {
    /// A governance report (`sqin ledger export --kind governance`) to
    /// verify offline with --vkey: the checkpoint's signature and every
    /// entry's inclusion; prints the acts.
    #[arg(long, conflicts_with = "export", requires = "vkey_source")]
    pub governance: Option<PathBuf>,
    /// An export (`sqin ledger export`) to verify instead of the database.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// A checkpoint note obtained independently, e.g. from /ledger/checkpoint
    /// last week (repeatable): the ledger must be consistent with it.
    #[arg(long = "checkpoint")]
    pub checkpoints: Vec<PathBuf>,
    /// The published verifier key (/ledger/vkey). Without it the key is read
    /// from what is being verified, which proves consistency, not authenticity.
    #[arg(long, group = "vkey_source")]
    pub vkey: Option<String>,
    /// A file holding the verifier key.
    #[arg(long, conflicts_with = "vkey", group = "vkey_source")]
    pub vkey_file: Option<PathBuf>,
    /// The origin the export must have (export only).
    #[arg(long)]
    pub origin: Option<String>,
    /// A witness's verifier key (repeatable): every --checkpoint must carry
    /// its valid cosignature (fetch /ledger/checkpoint, which includes them).
    #[arg(long = "witness")]
    pub witnesses: Vec<String>,
}

fn verify_options(v: &LedgerVerify) -> anyhow::Result<sqin_ledger_service::VerifyOptions> {
    let vkey = match (&v.vkey, &v.vkey_file) {
        (Some(k), _) => Some(k.trim().to_owned()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --vkey-file {}", path.display()))?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    let checkpoints = v
        .checkpoints
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --checkpoint {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(sqin_ledger_service::VerifyOptions {
        vkey,
        checkpoints,
        origin: v.origin.clone(),
        witnesses: v.witnesses.clone(),
    })
}

fn report_verified(report: &sqin_ledger_service::VerifyReport) -> anyhow::Result<()> {
    print_json(&serde_json::to_value(report)?)?;
    if !report.key_pinned {
        eprintln!(
            "note: the verifier key was read from the data itself; pin the published one with --vkey"
        );
    }
    if report.queued > 0 {
        eprintln!(
            "note: {} entries are queued for the sequencer and not in the tree yet",
            report.queued
        );
    }
    if report.entries > report.latest_checkpoint_size {
        eprintln!(
            "note: entries {}..{} are covered by no signed checkpoint yet",
            report.latest_checkpoint_size, report.entries
        );
    }
    eprintln!(
        "ledger verified: {} entries, {} checkpoints",
        report.entries, report.checkpoints_verified
    );
    Ok(())
}

/// `sqin ledger ...`. `verify --export` runs offline; the rest open the
/// server's database and keys.
pub async fn run(config: &crate::Config, cmd: LedgerCommand) -> anyhow::Result<()> {
    use sqin_ledger_service::{checkpoints, export, purge, verify, CheckpointPolicy};
    if let LedgerCommand::Verify(v) = &cmd {
        if let Some(path) = &v.governance {
            let opts = verify_options(v)?;
            let vkey = opts.vkey.unwrap_or_default();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let report: sqin_ledger_service::governance::GovernanceReport =
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a governance report", path.display()))?;
            let acts = sqin_ledger_service::governance::verify_report(&report, &vkey)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let listed: Vec<_> = acts
                .iter()
                .map(|a| {
                    json!({
                        "seq": a.seq, "time": super::rfc3339(a.time), "actor": a.actor,
                        "what": a.what, "details": a.details,
                    })
                })
                .collect();
            print_json(&json!(listed))?;
            eprintln!(
                "governance report verified: {} acts from {} to {}",
                acts.len(),
                super::rfc3339(report.from),
                super::rfc3339(report.to)
            );
            return Ok(());
        }
        if let Some(path) = &v.export {
            let opts = verify_options(v)?;
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("verifying");
            let report = tokio::task::spawn_blocking(move || {
                verify::verify_export(
                    std::io::BufReader::new(file),
                    &opts,
                    &mut |done, total| {
                        bar.set_length(total);
                        bar.set_position(done);
                    },
                    &cancel,
                )
            })
            .await?
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            return report_verified(&report);
        }
    }
    let services = crate::open(config).await?;
    let ledger = &services.ledger;
    let mut conn = services.store.pool().acquire().await?;
    match cmd {
        LedgerCommand::Verify(v) => {
            let opts = verify_options(&v)?;
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("verifying");
            let report = verify::verify_store(
                &mut conn,
                ledger,
                &opts,
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
                &cancel,
            )
            .await;
            bar.finish_and_clear();
            report_verified(&report?)?;
        }
        LedgerCommand::Export {
            output,
            kind: Some(ExportKind::Governance),
            from,
            to,
        } => {
            let from = from.as_deref().map(|t| parse_day(t, "from")).transpose()?;
            let to = to.as_deref().map(|t| parse_day(t, "to")).transpose()?;
            let (from, to) = (
                from.unwrap_or(0),
                to.map_or(services.now() + 1, |d| d + 86_400),
            );
            // Everything up to now is placed and covered by a checkpoint.
            checkpoints::publish(&mut conn, ledger, services.now(), CheckpointPolicy::IfGrown)
                .await?;
            let report =
                sqin_ledger_service::governance::report(&mut conn, ledger, from, to).await?;
            let text = serde_json::to_string_pretty(&report)?;
            write_output(output.as_deref(), &text)?;
            eprintln!(
                "exported {} governance entries with their proofs",
                report.entries.len()
            );
        }
        LedgerCommand::Export { output, .. } => {
            // Entries committed but still queued are placed first.
            sqin_ledger_service::sequence(&mut conn, ledger).await?;
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("exporting");
            let mut progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let summary = match &output {
                Some(path) => {
                    // Written beside the target and renamed when complete, so
                    // an interrupted export never looks like a whole one.
                    let partial = path.with_extension("partial");
                    let file = std::fs::File::create(&partial)
                        .with_context(|| format!("cannot create {}", partial.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    let result = export::export(
                        &mut conn,
                        ledger,
                        &mut out,
                        services.now(),
                        &mut progress,
                        &cancel,
                    )
                    .await;
                    drop(out);
                    match result {
                        Ok(summary) => {
                            std::fs::rename(&partial, path).with_context(|| {
                                format!("cannot rename {} to {}", partial.display(), path.display())
                            })?;
                            summary
                        }
                        Err(e) => {
                            let _ = std::fs::remove_file(&partial);
                            bail!("export failed, nothing written: {e}");
                        }
                    }
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout());
                    export::export(
                        &mut conn,
                        ledger,
                        &mut out,
                        services.now(),
                        &mut progress,
                        &cancel,
                    )
                    .await?
                }
            };
            bar.finish_and_clear();
            eprintln!(
                "exported {} entries and {} checkpoints",
                summary.entries, summary.checkpoints
            );
        }
        LedgerCommand::Purge { dry_run, batch } => {
            if dry_run {
                let due = purge::due(&mut conn, ledger, services.now()).await?;
                print_json(&json!({ "due": due, "total": due.values().sum::<u64>() }))?;
                return Ok(());
            }
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("destroying keys");
            let report = purge::purge(
                &mut conn,
                ledger,
                services.now(),
                batch,
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
                &cancel,
            )
            .await;
            bar.finish_and_clear();
            let report = report?;
            print_json(&serde_json::to_value(&report)?)?;
            if report.interrupted {
                bail!(
                    "interrupted after destroying {} keys (every batch done is logged); run `sqin ledger purge` again to finish",
                    report.total()
                );
            }
            eprintln!("destroyed {} data keys past retention", report.total());
        }
        LedgerCommand::RotateKey => {
            let rotation = checkpoints::rotate_key(&mut conn, ledger, services.now()).await?;
            print_json(&serde_json::to_value(&rotation)?)?;
            eprintln!(
                "the ledger's checkpoints are now signed with {}; publish it where the old key was",
                rotation.vkey
            );
        }
        LedgerCommand::Checkpoint { force } => {
            let policy = if force {
                CheckpointPolicy::Always
            } else {
                CheckpointPolicy::IfGrown
            };
            let (cp, new) = checkpoints::publish(&mut conn, ledger, services.now(), policy).await?;
            print!("{}", cp.note);
            eprintln!(
                "{} checkpoint of {} entries",
                if new { "signed a new" } else { "latest" },
                cp.tree_size
            );
        }
    }
    Ok(())
}
