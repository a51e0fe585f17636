//! The parts of the governance rules (`pia/governance.md`, A-2.1 s. 63.3)
//! that the inventory decides: who in the organisation may do and see what
//! (the staff roles, and every role's access through the life cycle), and
//! how long each element is kept. Each is generated between two markers of
//! the hand-written rules, so the rules and the inventory (which the server
//! enforces) cannot disagree; a test fails when the file on disk is not the
//! generated text.
use std::fmt::Write;

use crate::html::{kept, Lang};
use crate::model::{AccessKind, Destruction, Inventory, RoleKind};
use crate::render::{cell, code_list as codes};

pub(crate) const BEGIN: &str =
    "<!-- BEGIN generated from inventory.toml: staff roles (do not edit; see pia/README.md) -->";
pub(crate) const END: &str = "<!-- END generated: staff roles -->";

pub(crate) const ACCESS_BEGIN: &str =
    "<!-- BEGIN generated from inventory.toml: access through the life cycle (do not edit; see pia/README.md) -->";
pub(crate) const ACCESS_END: &str = "<!-- END generated: access through the life cycle -->";
pub(crate) const RETENTION_BEGIN: &str =
    "<!-- BEGIN generated from inventory.toml: retention (do not edit; see pia/README.md) -->";
pub(crate) const RETENTION_END: &str = "<!-- END generated: retention -->";

/// The governance rules with every generated block brought up to date:
/// the staff roles (their markers are required: `None` without them), and
/// the access and retention tables where their markers are (`None` when a
/// block's end marker is missing or before its start).
pub(crate) fn sync(text: &str, inv: &Inventory) -> Option<String> {
    let mut out = with_block(text, &roles_block(inv))?;
    for (begin, end, block) in [
        (ACCESS_BEGIN, ACCESS_END, access_block(inv)),
        (RETENTION_BEGIN, RETENTION_END, retention_block(inv)),
    ] {
        if out.contains(begin) {
            out = with_block_between(&out, begin, end, &block)?;
        }
    }
    Some(out)
}

/// Every role's access to the elements at each stage of their life cycle,
/// markers included: one row per role the inventory grants anything, one
/// column per kind of access.
pub(crate) fn access_block(inv: &Inventory) -> String {
    const STAGES: [(AccessKind, &str); 7] = [
        (AccessKind::Create, "collects (create)"),
        (AccessKind::Read, "sees (read)"),
        (AccessKind::Verify, "checks (verify)"),
        (AccessKind::Update, "corrects (update)"),
        (AccessKind::Receive, "receives (receive)"),
        (AccessKind::Audit, "audits (audit)"),
        (AccessKind::Delete, "destroys (delete)"),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{ACCESS_BEGIN}
"
    );
    let _ = writeln!(
        out,
        "What each role may do with each element at each stage of its life cycle, as the \
         inventory grants it: collection is `create`; use is `read` (shown in clear) or \
         `verify` (compared with what is presented, without being shown); correction is \
         `update`; release is `receive` (obtained by disclosure); keeping is `audit` (its \
         existence and integrity checked, not its content); destruction is `delete`. The \
         condition of each grant is with the element in `inventory.md` (section 2), and the \
         access matrix in its section 3.\n"
    );
    let _ = write!(out, "| role |");
    for (_, heading) in STAGES {
        let _ = write!(out, " {heading} |");
    }
    let _ = write!(out, "\n| --- |");
    for _ in STAGES {
        let _ = write!(out, " --- |");
    }
    out.push('\n');
    for role in &inv.roles {
        let with = |kind: AccessKind| -> Vec<String> {
            inv.elements
                .iter()
                .filter(|e| {
                    e.roles
                        .iter()
                        .any(|a| a.role == role.id && a.access.contains(&kind))
                })
                .map(|e| e.id.clone())
                .collect()
        };
        let cells: Vec<String> = STAGES.iter().map(|(kind, _)| codes(&with(*kind))).collect();
        if cells.iter().all(|c| c == "—") {
            continue;
        }
        let _ = writeln!(
            out,
            "| **{}** (`{}`) | {} |",
            cell(&role.name),
            role.id,
            cells.join(" | ")
        );
    }
    let _ = writeln!(out, "\n{ACCESS_END}");
    out
}

/// How long each element is kept and how it is destroyed, markers
/// included: the elements grouped by retention, in the inventory's
/// calendar order.
pub(crate) fn retention_block(inv: &Inventory) -> String {
    let mut groups: Vec<(&str, Destruction, String, Vec<String>)> = Vec::new();
    for e in crate::facts::calendar(inv) {
        match groups
            .iter_mut()
            .find(|(r, d, _, _)| *r == e.retention && *d == e.destruction)
        {
            Some((_, _, _, ids)) => ids.push(e.id.clone()),
            None => groups.push((
                &e.retention,
                e.destruction,
                kept(e, Lang::En),
                vec![e.id.clone()],
            )),
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{RETENTION_BEGIN}\n");
    let _ = writeln!(
        out,
        "Every element of the inventory, grouped by how long it is kept: the periods the \
         server's scheduled purges read from the inventory (`Pia::retention_for`). What starts \
         each clock, and why, is in the inventory's retention calendar (`inventory.md`, \
         section 4).\n"
    );
    let _ = writeln!(
        out,
        "| kept | retention | elements | then |\n| --- | --- | --- | --- |"
    );
    for (retention, destruction, words, ids) in groups {
        let then = match destruction {
            Destruction::Delete => "deleted",
            Destruction::CryptoShred => "crypto-shredded (the citizen's data key is destroyed)",
            Destruction::Anonymise => "anonymised",
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {then} |",
            cell(&words),
            retention,
            codes(&ids)
        );
    }
    let _ = writeln!(out, "\n{RETENTION_END}");
    out
}

/// The generated block, markers included.
pub(crate) fn roles_block(inv: &Inventory) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n");
    let _ = writeln!(
        out,
        "Each staff role, as the server enforces it on every request of the staff console. \
         A member of staff holds a role only through a grant that a second person, whose own \
         role may grant it, approved; a grant ends on its date (at most a year). \"Sees\" is \
         shown in clear on a look-up; \"checks\" is compared with what the caller says, \
         without being shown.\n"
    );
    let _ = writeln!(
        out,
        "| role | may do | opens a file for | sees | checks | may grant | training |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    for role in inv.roles.iter().filter(|r| r.kind == RoleKind::Staff) {
        let with = |kind: AccessKind| -> Vec<String> {
            inv.elements
                .iter()
                .filter(|e| {
                    e.roles
                        .iter()
                        .any(|a| a.role == role.id && a.access.contains(&kind))
                })
                .map(|e| e.id.clone())
                .collect()
        };
        let purposes: Vec<String> = role
            .lookup_purposes
            .iter()
            .map(|p| {
                inv.purposes
                    .iter()
                    .find(|q| &q.id == p)
                    .map_or_else(|| p.clone(), |q| format!("{} (`{p}`)", q.title))
            })
            .collect();
        let _ = writeln!(
            out,
            "| **{}** (`{}`) | {} | {} | {} | {} | {} | {} |",
            cell(&role.name),
            role.id,
            codes(&role.actions),
            if purposes.is_empty() {
                "—".to_owned()
            } else {
                cell(&purposes.join(", "))
            },
            codes(&with(AccessKind::Read)),
            codes(&with(AccessKind::Verify)),
            codes(&role.may_grant),
            role.training.as_deref().map_or("—".to_owned(), cell),
        );
    }
    let _ = writeln!(out, "\n{END}");
    out
}

/// `text` with its generated block replaced by `block`; `None` when the
/// markers are missing or out of order.
pub(crate) fn with_block(text: &str, block: &str) -> Option<String> {
    with_block_between(text, BEGIN, END, block)
}

/// `text` with what lies between `begin` and `end` (markers included)
/// replaced by `block`; `None` when the markers are missing or out of order.
pub(crate) fn with_block_between(
    text: &str,
    begin: &str,
    end_marker: &str,
    block: &str,
) -> Option<String> {
    let start = text.find(begin)?;
    let end = text.get(start..)?.find(end_marker)? + start + end_marker.len();
    let end = if text.get(end..)?.starts_with('\n') {
        end + 1
    } else {
        end
    };
    Some(format!("{}{block}{}", text.get(..start)?, text.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pia");
        crate::Pia::load(std::path::Path::new(dir))
            .unwrap()
            .inventory()
            .clone()
    }

    /// pia/governance.md carries the access and retention tables, and they
    /// are the inventory's (`the_governance_rules_agree_with_the_inventory`
    /// compares the whole file, these blocks included).
    #[test]
    fn the_governance_tables_are_the_inventory_s() {
        let inv = inventory();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pia/governance.md");
        let on_disk = std::fs::read_to_string(path).unwrap();
        for block in [access_block(&inv), retention_block(&inv)] {
            assert!(
                on_disk.contains(&block),
                "pia/governance.md disagrees with pia/inventory.toml; regenerate with \
                 `SQIN_PIA_BLESS=1 cargo test -p sqin-pia` and commit both:\n{block}"
            );
        }
        // Every element is on the one row of its own period.
        let retention = retention_block(&inv);
        for e in &inv.elements {
            let rows: Vec<&str> = retention
                .lines()
                .filter(|l| {
                    l.contains(&format!("`{}`,", e.id)) || l.contains(&format!("`{}` |", e.id))
                })
                .collect();
            assert_eq!(rows.len(), 1, "{}: {rows:?}", e.id);
            assert!(
                rows[0].contains(&format!("| `{}` |", e.retention)),
                "{}: {}",
                e.id,
                rows[0]
            );
        }
    }

    #[test]
    fn each_block_replaces_only_itself_and_is_optional_but_the_roles() {
        let inv = inventory();
        let text =
            format!("a\n{BEGIN}\nstale\n{END}\nb\n{RETENTION_BEGIN}\nstale\n{RETENTION_END}\nc\n");
        let synced = sync(&text, &inv).unwrap();
        assert!(synced.starts_with("a\n") && synced.ends_with("c\n"));
        assert!(!synced.contains("stale"));
        assert!(synced.contains("`while-account-active+P1Y`"));
        assert!(!synced.contains(ACCESS_BEGIN));
        assert_eq!(sync(&synced, &inv).unwrap(), synced);
        let broken = format!("{BEGIN}\n{END}\n{ACCESS_BEGIN}\n");
        assert!(sync(&broken, &inv).is_none());
        assert!(sync("no markers", &inv).is_none());
    }
}
