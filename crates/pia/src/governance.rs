//! The part of the governance rules (`pia/governance.md`, A-2.1 s. 63.3)
//! that the inventory decides: who in the organisation may do and see what.
//! It is generated between two markers of the hand-written rules, so the
//! rules and the inventory (which the server enforces) cannot disagree; a
//! test fails when the file on disk is not the generated text.
use std::fmt::Write;

use crate::model::{AccessKind, Inventory, RoleKind};

pub(crate) const BEGIN: &str =
    "<!-- BEGIN generated from inventory.toml: staff roles (do not edit; see pia/README.md) -->";
pub(crate) const END: &str = "<!-- END generated: staff roles -->";

fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn codes(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
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
    let start = text.find(BEGIN)?;
    let end = text[start..].find(END)? + start + END.len();
    let end = if text[end..].starts_with('\n') {
        end + 1
    } else {
        end
    };
    Some(format!("{}{block}{}", &text[..start], &text[end..]))
}
