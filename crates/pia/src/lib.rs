//! sqin's privacy impact assessment (PIA) as code.
//!
//! `pia/inventory.toml` is the single source of truth for the personal
//! information sqin collects, keeps, discloses and destroys: each element with
//! its purposes, legal basis, sensitivity, retention, destruction method,
//! storage and who may access it, plus the relying parties, processors and the
//! law's obligations mapped to artifacts, controls and tests. This crate:
//!
//! - loads it into a typed model that refuses unknown keys ([`Pia::load`]);
//! - validates it: references resolve, retention periods parse and stay
//!   within the law's and the PIA's bounds, access follows need to know, no
//!   entry touches a forbidden subject ([`forbidden`]), the risks name their
//!   control and test, `approved` rests on a recorded consultation, every
//!   obligation row is mapped once ([`Pia::content_problems`]); and, with the
//!   source tree, every artifact exists and every named test is a test
//!   ([`Pia::source_problems`]);
//! - compares it with what the code declares (claims, scopes, stored
//!   elements and where they are kept), in both directions, so CI fails when
//!   code and PIA disagree ([`Pia::check_against`]);
//! - runs all of it as one check, the one CI, `sqin pia check` and the
//!   server's start-up call ([`Pia::check`]);
//! - answers retention questions for purge jobs ([`Pia::retention_for`]);
//! - renders the document a reviewer reads ([`Pia::render_markdown`]), and
//!   the whole assessment as one self-contained HTML file with its data-flow
//!   diagram ([`Pia::render_html`], [`html`]);
//! - says what changed between two versions, each widening flagged, and
//!   which widenings no consultation covers ([`diff`]).
//!
//! It depends on no other sqin crate and on no web framework: the server
//! passes its declarations in, so the dependency points from code to PIA.
//!
//! ```no_run
//! use std::path::Path;
//! use sqin_pia::{CodeDeclarations, Pia};
//!
//! # fn main() -> Result<(), sqin_pia::PiaError> {
//! let pia = Pia::load(Path::new("pia"))?;
//! pia.validate()?;
//! let declared = CodeDeclarations {
//!     claims: vec!["email".into()],
//!     scopes: vec![("email".into(), vec!["email".into()])],
//!     stored_elements: vec!["citizen.email".into()],
//!     ..Default::default()
//! };
//! for mismatch in pia.check_against(&declared) {
//!     eprintln!("{mismatch}");
//! }
//! let keep = pia.retention_for("citizen.email");
//! # let _ = keep;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod assessment;
mod check;
mod dataflow;
pub mod diff;
mod facts;
pub mod forbidden;
mod governance;
pub mod html;
pub mod model;
mod render;
mod retention;
mod rules;
mod source;
mod validate;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use check::{CodeDeclarations, Mismatch};
pub use diff::{widenings_without_consultation, Change};
pub use html::Lang;
pub use model::{
    Access, AccessKind, Category, Consultation, ConsultationDecision, ConsultationStatus,
    Destruction, DocumentStatus, Element, ForbiddenException, ForbiddenSubject, Inventory, Meta,
    Obligation, ObligationStatus, Processor, Purpose, RelyingParty, RetentionRule, Risk,
    RiskStatus, Role, RoleKind, Scope, Sensitivity,
};
pub use retention::{Condition, IsoDuration, Retention, RetentionError};
pub use rules::{LAW_FLOORS, RETENTION_CEILING};
pub use source::TEST_MACROS;
pub use validate::OBLIGATION_ROWS;

/// The file [`Pia::load`] reads inside the PIA directory.
pub const INVENTORY_FILE: &str = "inventory.toml";

/// Errors from loading or validating the PIA.
#[derive(Debug, thiserror::Error)]
pub enum PiaError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid PIA inventory: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{} problem(s) in the PIA inventory:\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One thing wrong with the inventory: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The entry concerned, such as ``element `citizen.email` `` or
    /// `obligation row 5`.
    pub at: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// What [`Pia::check`] found: the inventory's own problems, and where it
/// and the code disagree. Empty when the PIA may be run under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub problems: Vec<Problem>,
    pub mismatches: Vec<Mismatch>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty() && self.mismatches.is_empty()
    }

    /// Every finding, one line each: problems first, then mismatches.
    pub fn lines(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(ToString::to_string)
            .chain(self.mismatches.iter().map(ToString::to_string))
            .collect()
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.lines() {
            writeln!(f, "  - {line}")?;
        }
        Ok(())
    }
}

/// A loaded PIA: the inventory and the repository it describes.
#[derive(Debug, Clone)]
pub struct Pia {
    inventory: Inventory,
    repo_root: PathBuf,
}

impl Pia {
    /// Reads `dir/inventory.toml`. `dir` is the repository's `pia/`
    /// directory; its parent is the repository root against which artifact
    /// and test paths are resolved.
    pub fn load(dir: &Path) -> Result<Pia, PiaError> {
        let path = dir.join(INVENTORY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| PiaError::Read {
            path: path.clone(),
            source,
        })?;
        let root = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self::parse(&text, &path, root)
    }

    /// Parses inventory text; `repo_root` resolves artifact and test paths.
    pub fn from_toml_str(text: &str, repo_root: &Path) -> Result<Pia, PiaError> {
        Self::parse(text, Path::new(INVENTORY_FILE), repo_root.to_path_buf())
    }

    fn parse(text: &str, path: &Path, repo_root: PathBuf) -> Result<Pia, PiaError> {
        let inventory: Inventory = toml::from_str(text).map_err(|e| PiaError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(Pia {
            inventory,
            repo_root,
        })
    }

    /// The typed inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The repository root artifact and test paths are resolved against.
    pub fn repo_root(&self) -> &Path {
        &self.repo_root
    }

    /// Every problem found, the files included (resolved against
    /// [`Pia::repo_root`]); empty when the inventory is valid.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = self.content_problems();
        problems.extend(self.source_problems(&self.repo_root));
        problems
    }

    /// Every problem that needs no source tree: what the server checks at
    /// start-up, since it carries its PIA but not the repository.
    pub fn content_problems(&self) -> Vec<Problem> {
        validate::content_problems(&self.inventory)
    }

    /// The problems with the files the inventory names, resolved against
    /// `source_tree`: a missing artifact, see-also, s. 70.1 assessment,
    /// consultation record or control, and a named test that is not a test
    /// of its file.
    pub fn source_problems(&self, source_tree: &Path) -> Vec<Problem> {
        source::problems(&self.inventory, source_tree)
    }

    /// The whole check, the same everywhere: the content problems, the
    /// source-tree problems when `source_tree` is given (CI, `sqin pia check
    /// --source-tree DIR`), and the disagreements with the code. The server
    /// calls it with no source tree at start-up.
    pub fn check(&self, declared: &CodeDeclarations, source_tree: Option<&Path>) -> Findings {
        let mut problems = self.content_problems();
        if let Some(root) = source_tree {
            problems.extend(self.source_problems(root));
        }
        Findings {
            problems,
            mismatches: self.check_against(declared),
        }
    }

    /// `Ok` when [`Pia::content_problems`] finds nothing.
    pub fn validate_content(&self) -> Result<(), PiaError> {
        let problems = self.content_problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PiaError::Invalid(problems))
        }
    }

    /// `Ok` when [`Pia::problems`] finds nothing; otherwise every problem.
    pub fn validate(&self) -> Result<(), PiaError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PiaError::Invalid(problems))
        }
    }

    /// Differences between the PIA and what the code declares, in both
    /// directions; a planned element may be missing from the code, but not
    /// stored or released by it. Empty when they agree.
    pub fn check_against(&self, declared: &CodeDeclarations) -> Vec<Mismatch> {
        check::check(&self.inventory, declared)
    }

    /// The element with this id.
    pub fn element(&self, id: &str) -> Option<&Element> {
        self.inventory.elements.iter().find(|e| e.id == id)
    }

    /// The relying party registered with this `client_id`.
    pub fn relying_party(&self, client_id: &str) -> Option<&RelyingParty> {
        self.inventory
            .relying_parties
            .iter()
            .find(|r| r.id == client_id)
    }

    /// How long an element is kept, for purge jobs. `None` when the element
    /// is not in the inventory or its retention does not parse (which
    /// [`Pia::validate`] reports).
    pub fn retention_for(&self, element_id: &str) -> Option<Retention> {
        self.element(element_id)?.retention.parse().ok()
    }

    /// The complete inventory as a Markdown document for reviewers.
    pub fn render_markdown(&self) -> String {
        render::render(&self.inventory)
    }

    /// The complete assessment as one self-contained HTML document (inline
    /// CSS, no script, the data-flow diagram as inline SVG) in `lang`.
    pub fn render_html(&self, lang: Lang) -> String {
        html::render(&self.inventory, lang, &html::Style::Inline)
    }

    /// What changed from `older` to this version, each widening flagged.
    pub fn diff_from(&self, older: &Pia) -> Vec<Change> {
        diff::diff(&older.inventory, &self.inventory)
    }

    /// The governance rules (`governance.md`) with their generated
    /// sections (the staff roles, the access through the life cycle, the
    /// retention table) brought up to date from the inventory; `None` when
    /// the text lacks the staff roles' markers or a section's markers are
    /// out of order.
    pub fn sync_governance(&self, governance_md: &str) -> Option<String> {
        governance::sync(governance_md, &self.inventory)
    }

    /// The assessment (`assessment.md`) with its generated risk table
    /// brought up to date from the `[[risk]]` entries; `None` when the text
    /// lacks the table's markers.
    pub fn sync_assessment(&self, assessment_md: &str) -> Option<String> {
        governance::with_block_between(
            assessment_md,
            assessment::BEGIN,
            assessment::END,
            &assessment::risks_block(&self.inventory),
        )
    }
}
