//! The privacy impact assessment the server runs under.
//!
//! The PIA is not only a document: at start-up the server loads the
//! inventory (the one built into the binary from the repository's
//! `pia/inventory.toml`, or the one the deployment adopted, `pia_file`),
//! runs on it the same check CI runs ([`sqin_pia::Pia::check`]: everything
//! but what needs the source tree), refuses to start if it finds anything
//! (a forbidden subject, a retention out of bounds, access beyond need, an
//! approval with no consultation, a claim, scope, stored element, storage
//! location or ledger entry kind the PIA does not declare, or the reverse),
//! and takes the ledger's retention periods from it. So the retention a
//! reviewer reads is the retention the purge enforces.
use std::path::{Path, PathBuf};

use sqin_ledger_service::{EntryKind, Retention};
use sqin_pia::{CodeDeclarations, Pia};

/// The repository's inventory, as built into this binary.
pub const BUILT_IN: &str = include_str!("../../../pia/inventory.toml");

/// What the code does with personal information, as the PIA must declare it:
/// every releasable claim, every scope with its claims, every stored element
/// with where the store keeps it, and every ledger entry kind with the
/// element that sets its retention.
pub fn declarations() -> CodeDeclarations {
    CodeDeclarations {
        claims: sqin_oidc::claims::all_claims()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        scopes: sqin_oidc::claims::SCOPES
            .iter()
            .map(|s| {
                (
                    s.name.to_owned(),
                    s.claims.iter().map(|c| (*c).to_owned()).collect(),
                )
            })
            .collect(),
        stored_elements: sqin_store::PERSONAL_DATA
            .iter()
            .map(|(id, _)| (*id).to_owned())
            .collect(),
        storage: sqin_store::PERSONAL_DATA
            .iter()
            .map(|(id, at)| ((*id).to_owned(), (*at).to_owned()))
            .collect(),
        ledger_kinds: EntryKind::PERSONAL
            .iter()
            .filter_map(|k| Some((k.as_str().to_owned(), k.pia_element()?.to_owned())))
            .collect(),
        staff_actions: sqin_staff::StaffAction::names(),
    }
}

/// Why the server will not run under a PIA.
#[derive(Debug, thiserror::Error)]
pub enum PiaLoadError {
    #[error("cannot read the PIA inventory {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the PIA inventory {source_name} is invalid: {error}")]
    Invalid {
        source_name: String,
        error: sqin_pia::PiaError,
    },
    #[error("the code and the PIA inventory {source_name} disagree; sqin will not run under a PIA that does not describe it:\n{}", list(.mismatches))]
    Disagrees {
        source_name: String,
        mismatches: Vec<String>,
    },
    /// Both: everything the check found, at once.
    #[error("the PIA inventory {source_name} is invalid: {error}\nand the code and the PIA inventory {source_name} disagree; sqin will not run under a PIA that does not describe it:\n{}", list(.mismatches))]
    InvalidAndDisagrees {
        source_name: String,
        error: sqin_pia::PiaError,
        mismatches: Vec<String>,
    },
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|m| format!("  - {m}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A PIA that describes this code, with what the server takes from it.
#[derive(Debug, Clone)]
pub struct AdoptedPia {
    pub pia: Pia,
    /// Where it came from: a file, or "built-in".
    pub source: String,
    /// The ledger's retention per entry kind, from the PIA.
    pub ledger_retention: Retention,
}

/// Loads the PIA from `file`, or the built-in one, checks it against the
/// code and derives the ledger's retention: what every command does at
/// start-up.
pub fn load(file: Option<&Path>) -> Result<AdoptedPia, PiaLoadError> {
    load_checked(file, None)
}

/// [`load`], with the source-tree checks too when `source_tree` is given
/// (`sqin pia check --source-tree DIR`): every file the inventory names
/// exists under DIR and every test it names is a test there.
pub fn load_checked(
    file: Option<&Path>,
    source_tree: Option<&Path>,
) -> Result<AdoptedPia, PiaLoadError> {
    let (text, source_name, root) = match file {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|source| PiaLoadError::Read {
                path: path.to_path_buf(),
                source,
            })?,
            path.display().to_string(),
            path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        ),
        None => (
            BUILT_IN.to_owned(),
            "built-in".to_owned(),
            PathBuf::from("."),
        ),
    };
    let invalid = |error| PiaLoadError::Invalid {
        source_name: source_name.clone(),
        error,
    };
    let pia = Pia::from_toml_str(&text, &root).map_err(invalid)?;
    // The one check, as CI runs it; without a source tree, everything but
    // the files.
    let findings = pia.check(&declarations(), source_tree);
    let mismatches: Vec<String> = findings
        .mismatches
        .iter()
        .map(ToString::to_string)
        .collect();
    if !findings.problems.is_empty() {
        let error = sqin_pia::PiaError::Invalid(findings.problems);
        if mismatches.is_empty() {
            return Err(invalid(error));
        }
        return Err(PiaLoadError::InvalidAndDisagrees {
            source_name,
            error,
            mismatches,
        });
    }
    if !mismatches.is_empty() {
        return Err(PiaLoadError::Disagrees {
            source_name,
            mismatches,
        });
    }
    // The check above guarantees a fixed retention for every personal kind.
    let days = |kind: EntryKind| -> i64 {
        kind.pia_element()
            .and_then(|e| pia.retention_for(e))
            .and_then(|r| r.fixed_days())
            .map_or(0, i64::from)
    };
    let ledger_retention = Retention::from_days(days);
    ledger_retention
        .validate()
        .map_err(|message| PiaLoadError::Disagrees {
            source_name: source_name.clone(),
            mismatches: vec![format!("ledger retention: {message}")],
        })?;
    Ok(AdoptedPia {
        pia,
        source: source_name,
        ledger_retention,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_pia_describes_this_code() {
        let adopted = load(None).unwrap();
        assert_eq!(adopted.source, "built-in");
        // The ledger's default retention (for tools and tests) is the PIA's.
        assert_eq!(adopted.ledger_retention, Retention::default());
    }
}
