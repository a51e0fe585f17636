//! What staff can do in sqin, as the code knows it. The PIA grants these to
//! roles (`actions = [...]`); a role is never granted anything else.
use serde::Serialize;

/// One action of the staff plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum StaffAction {
    /// Open a citizen's file by register id, for a stated purpose.
    FileLookup,
    /// Ask that an enrolled citizen be sent a recovery code by mail.
    RecoveryRequest,
    /// Approve another person's recovery request.
    RecoveryApprove,
    /// Ask that an account be closed on the citizen's request (phone, mail).
    ClosureRequest,
    /// Approve another person's closure request.
    ClosureApprove,
    /// Invite a member of staff, or ask that a role be granted.
    StaffInvite,
    /// Approve another person's invitation or grant.
    GrantApprove,
    /// Print the letters (codes) queued for the mail.
    LettersPrint,
    /// Read and answer complaints.
    ComplaintsHandle,
    /// Read and answer the correction requests citizens make of their
    /// file (the role that keeps the register).
    CorrectionsHandle,
    /// Review staff accesses across citizens, with their flags.
    AccessReview,
    /// Manage relying parties (administrator; no citizen data).
    ClientsManage,
    /// Approve a new relying party, or an edit that widens what one
    /// receives (privacy officer).
    ClientsApprove,
    /// Rotate signing keys.
    KeysRotate,
    /// Verify the ledger and read aggregate reports (auditor; no personal
    /// data).
    LedgerVerify,
}

impl StaffAction {
    /// Every action, in a stable order.
    pub const ALL: [StaffAction; 15] = [
        Self::FileLookup,
        Self::RecoveryRequest,
        Self::RecoveryApprove,
        Self::ClosureRequest,
        Self::ClosureApprove,
        Self::StaffInvite,
        Self::GrantApprove,
        Self::LettersPrint,
        Self::ComplaintsHandle,
        Self::CorrectionsHandle,
        Self::AccessReview,
        Self::ClientsManage,
        Self::ClientsApprove,
        Self::KeysRotate,
        Self::LedgerVerify,
    ];

    /// The name the PIA uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FileLookup => "file.lookup",
            Self::RecoveryRequest => "recovery.request",
            Self::RecoveryApprove => "recovery.approve",
            Self::ClosureRequest => "closure.request",
            Self::ClosureApprove => "closure.approve",
            Self::StaffInvite => "staff.invite",
            Self::GrantApprove => "grant.approve",
            Self::LettersPrint => "letters.print",
            Self::ComplaintsHandle => "complaints.handle",
            Self::CorrectionsHandle => "corrections.handle",
            Self::AccessReview => "access.review",
            Self::ClientsManage => "clients.manage",
            Self::ClientsApprove => "clients.approve",
            Self::KeysRotate => "keys.rotate",
            Self::LedgerVerify => "ledger.verify",
        }
    }

    /// The action the PIA names `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// Every action's name, for the PIA check.
    pub fn names() -> Vec<String> {
        Self::ALL.iter().map(|a| a.as_str().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in StaffAction::ALL {
            assert_eq!(StaffAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(StaffAction::parse("file.export"), None);
    }
}
