//! The part of the assessment (`pia/assessment.md`, step 3) that the
//! inventory decides: the table of risks, each with its ratings, measures,
//! control and test. It is generated between two markers of the prose, so
//! the risks a reader sees are the `[[risk]]` entries the checks hold to
//! their control and test; a test fails when the file on disk differs.
use std::fmt::Write;

use crate::model::Inventory;
use crate::render::cell;

pub(crate) const BEGIN: &str =
    "<!-- BEGIN generated from inventory.toml: risks (do not edit; see pia/README.md) -->";
pub(crate) const END: &str = "<!-- END generated: risks -->";

/// The generated risk table, markers included.
pub(crate) fn risks_block(inv: &Inventory) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n");
    let _ = writeln!(
        out,
        "| # | risk | before (L×S) | main measures | after | status | control | test |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for r in &inv.risks {
        let status = match r.issue.as_deref() {
            Some(issue) if !issue.trim().is_empty() => {
                format!("{} ({})", r.status.as_str(), cell(issue))
            }
            _ => r.status.as_str().to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {}×{} = {} | {} | {}×{} = {} | {} | `{}` | `{}` |",
            r.id,
            cell(&r.title),
            r.likelihood,
            r.impact,
            r.level(),
            cell(&r.measures),
            r.residual_likelihood,
            r.residual_impact,
            r.residual_level(),
            status,
            r.control,
            r.test,
        );
    }
    let _ = writeln!(out, "\n{END}");
    out
}
