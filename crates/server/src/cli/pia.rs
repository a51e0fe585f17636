//! `sqin pia`: the privacy impact assessment this binary runs under:
//! check one against the code, render it for reviewers (Markdown, or one
//! HTML file), or say what changed between two versions.
use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum PiaCommand {
    /// Check an inventory (FILE, else `pia_file`, else the built-in one)
    /// with the check CI runs and the server runs at start-up: valid (no
    /// forbidden subject, retention within bounds, access within need,
    /// `approved` only with a consultation, risks with their control and
    /// test) and describing this code. With `--source-tree DIR`, also every
    /// file it names exists under DIR and every test it names is a test
    /// there. Prints a summary with the ledger's retention; exits 1 naming
    /// every problem otherwise. Needs no database.
    Check {
        file: Option<PathBuf>,
        /// Also check what needs the source: artifacts, s. 70.1
        /// assessments, consultation records and risk controls exist under
        /// DIR (the repository, or the directory of an adopted copy's
        /// documents), and each named test is a #[test] of its file.
        #[arg(long, value_name = "DIR")]
        source_tree: Option<PathBuf>,
        /// Also refuse a widening since this older version (a path to an
        /// inventory.toml, or REV:path for a git revision, `v1.2:` for
        /// `v1.2:pia/inventory.toml`) that no `[[consultation]]` covers.
        #[arg(long, value_name = "OLD")]
        against: Option<String>,
    },
    /// Print the inventory (FILE, else `pia_file`, else the built-in one) as
    /// the Markdown document a reviewer reads (pia/inventory.md), or with
    /// `--html` as one self-contained HTML file (inline CSS, no script, the
    /// data-flow diagram as inline SVG) to read offline.
    Render {
        file: Option<PathBuf>,
        /// One HTML document instead of Markdown.
        #[arg(long)]
        html: bool,
        /// The HTML document's language: `fr` or `en`.
        #[arg(long, default_value = "fr", value_parser = ["fr", "en"])]
        lang: String,
    },
    /// What changed from OLD to NEW, each widening flagged with the
    /// consultation that covers it (or none). Each is a path to an
    /// inventory.toml (or its directory), or REV:path for a git revision
    /// (`v1.2:pia/inventory.toml`; `v1.2:` reads `pia/inventory.toml`).
    /// Exits 0 unless a version cannot be read, or with
    /// `--fail-on-widening` when anything widens.
    Diff {
        old: String,
        new: String,
        /// The changes as JSON (each with its key, kind, sentence and
        /// whether it widens).
        #[arg(long)]
        json: bool,
        /// Exit 1 when any change widens the assessment.
        #[arg(long)]
        fail_on_widening: bool,
    },
}

/// Where `sqin pia diff` and `check --against` read an inventory from:
/// a file (or a directory holding `inventory.toml`), else `REV:path`
/// through `git show`. Returns a label for messages and the text.
pub fn read_version(arg: &str) -> anyhow::Result<(String, String)> {
    let path = std::path::Path::new(arg);
    if path.exists() {
        let file = if path.is_dir() {
            path.join(sqin_pia::INVENTORY_FILE)
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        return Ok((file.display().to_string(), text));
    }
    let Some((rev, file)) = arg.split_once(':') else {
        anyhow::bail!(
            "{arg}: no such file (give a path to an inventory.toml, or REV:path for a git revision, such as v1.2:pia/inventory.toml)"
        );
    };
    let file = if file.is_empty() {
        "pia/inventory.toml"
    } else {
        file
    };
    if rev.is_empty() {
        anyhow::bail!(
            "{arg}: no revision before ':' (REV:path, such as HEAD~1:pia/inventory.toml)"
        );
    }
    let spec = format!("{rev}:{file}");
    let out = std::process::Command::new("git")
        .args(["show", "--no-textconv", &spec])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow::anyhow!("{arg}: git is not installed, and is needed to read a revision")
            }
            _ => anyhow::anyhow!("{arg}: cannot run git: {e}"),
        })?;
    if !out.status.success() {
        anyhow::bail!(
            "{arg}: git cannot show {spec}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| anyhow::anyhow!("{arg}: {spec} is not UTF-8 text"))?;
    Ok((spec, text))
}

/// An inventory read by [`read_version`].
fn load_version(arg: &str) -> anyhow::Result<(String, sqin_pia::Pia)> {
    let (label, text) = read_version(arg)?;
    let pia = sqin_pia::Pia::from_toml_str(&text, std::path::Path::new("."))
        .map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
    Ok((label, pia))
}

/// `sqin pia diff OLD NEW`.
fn diff(old: &str, new: &str, as_json: bool, fail_on_widening: bool) -> anyhow::Result<()> {
    let (_, old) = load_version(old)?;
    let (_, new) = load_version(new)?;
    let changes = new.diff_from(&old);
    let mut out = std::io::stdout().lock();
    if as_json {
        let covered = |c: &sqin_pia::Change| -> Vec<String> {
            sqin_pia::diff::covering(new.inventory(), c)
                .iter()
                .map(|k| k.id.clone())
                .collect()
        };
        let list: Vec<serde_json::Value> = changes
            .iter()
            .map(|c| {
                let mut v = serde_json::to_value(c).unwrap_or_default();
                if let Some(map) = v.as_object_mut() {
                    map.insert("consultations".into(), json!(covered(c)));
                }
                v
            })
            .collect();
        let version = |p: &sqin_pia::Pia| {
            let m = &p.inventory().meta;
            json!({ "revision": m.revision, "updated": m.updated, "status": m.status.as_str() })
        };
        let doc = json!({
            "old": version(&old),
            "new": version(&new),
            "widenings": changes.iter().filter(|c| c.widening).count(),
            "changes": list,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        out.write_all(
            sqin_pia::diff::render_text(old.inventory(), new.inventory(), &changes).as_bytes(),
        )?;
    }
    if fail_on_widening && changes.iter().any(|c| c.widening) {
        anyhow::bail!(
            "{} change(s) widen the assessment",
            changes.iter().filter(|c| c.widening).count()
        );
    }
    Ok(())
}

/// `sqin pia check --against OLD`: every widening since OLD has a
/// consultation.
fn check_against(old: &str, new: &sqin_pia::Pia) -> anyhow::Result<()> {
    let (label, old) = load_version(old)?;
    let missing = sqin_pia::widenings_without_consultation(old.inventory(), new.inventory());
    if !missing.is_empty() {
        anyhow::bail!(
            "{} widening(s) since {label} without a [[consultation]] covering them (list the key, or the entry, in its `covers`):\n{}",
            missing.len(),
            missing
                .iter()
                .map(|c| format!("  - {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(())
}

/// `sqin pia check|render|diff`.
pub fn run(config: &crate::Config, cmd: PiaCommand) -> anyhow::Result<()> {
    let file = match &cmd {
        PiaCommand::Check { file, .. } | PiaCommand::Render { file, .. } => file,
        PiaCommand::Diff {
            old,
            new,
            json,
            fail_on_widening,
        } => return diff(old, new, *json, *fail_on_widening),
    };
    let source_tree = match &cmd {
        PiaCommand::Check { source_tree, .. } => source_tree.clone(),
        _ => None,
    };
    let adopted = sqin_app::pia::load_checked(
        file.as_deref().or(config.pia_file.as_deref()),
        source_tree.as_deref(),
    )?;
    match cmd {
        PiaCommand::Check { against, .. } => {
            if let Some(old) = &against {
                check_against(old, &adopted.pia)?;
            }
            print_json(&json!({
                "source": adopted.source,
                "elements": adopted.pia.inventory().elements.len(),
                "relying_parties": adopted.pia.inventory().relying_parties.len(),
                "ledger_retention_days": adopted.ledger_retention,
                "source_tree": source_tree.as_ref().map(|p| p.display().to_string()),
            }))?;
            eprintln!(
                "the PIA inventory ({}) is valid and describes this code{}",
                adopted.source,
                if source_tree.is_some() {
                    "; every file and test it names is in the source tree"
                } else {
                    " (files and tests not looked for: give --source-tree DIR)"
                }
            );
        }
        PiaCommand::Render { html, lang, .. } => {
            let mut out = std::io::stdout().lock();
            let text = if html {
                let lang = sqin_pia::Lang::parse(&lang).unwrap_or(sqin_pia::Lang::Fr);
                adopted.pia.render_html(lang)
            } else {
                adopted.pia.render_markdown()
            };
            out.write_all(text.as_bytes())?;
        }
        PiaCommand::Diff { .. } => {}
    }
    Ok(())
}
