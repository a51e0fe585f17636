//! Four eyes: a sensitive action is requested by one member of staff, with
//! a purpose and a reference, and takes effect only when a different member
//! of staff, whose role allows it, approves it before it lapses.
use serde::Serialize;

use crate::{RolePolicy, StaffAction, StaffError, StaffPolicy};

/// What can be requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A recovery code mailed to an enrolled citizen.
    Recovery,
    /// An account closed on the citizen's request by phone or mail.
    Closure,
    /// A role granted to a member of staff (an invitation carries one).
    Grant,
    /// A new relying party, or an edit that widens what one receives.
    RelyingParty,
}

impl RequestKind {
    pub const ALL: [RequestKind; 4] = [
        Self::Recovery,
        Self::Closure,
        Self::Grant,
        Self::RelyingParty,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recovery => "recovery",
            Self::Closure => "closure",
            Self::Grant => "grant",
            Self::RelyingParty => "relying_party",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The action that may request it.
    pub fn request_action(self) -> StaffAction {
        match self {
            Self::Recovery => StaffAction::RecoveryRequest,
            Self::Closure => StaffAction::ClosureRequest,
            Self::Grant => StaffAction::StaffInvite,
            Self::RelyingParty => StaffAction::ClientsManage,
        }
    }

    /// The action that may approve it.
    pub fn approve_action(self) -> StaffAction {
        match self {
            Self::Recovery => StaffAction::RecoveryApprove,
            Self::Closure => StaffAction::ClosureApprove,
            Self::Grant => StaffAction::GrantApprove,
            Self::RelyingParty => StaffAction::ClientsApprove,
        }
    }
}

/// A pending request, as the rule needs to see it.
#[derive(Debug, Clone)]
pub struct PendingRequest<'a> {
    pub kind: RequestKind,
    pub requested_by: &'a str,
    pub expires_at: i64,
    /// For a grant: the role to be granted.
    pub role: Option<&'a str>,
}

/// The rule, applied to a requester or an approver.
pub struct RequestRule;

impl RequestRule {
    /// The role among `held` that may request `kind` (for a grant, of
    /// `role`).
    pub fn requester<'p>(
        policy: &'p StaffPolicy,
        held: &[String],
        kind: RequestKind,
        role: Option<&str>,
    ) -> Result<&'p RolePolicy, StaffError> {
        held.iter()
            .filter_map(|r| policy.role(r))
            .find(|r| r.may(kind.request_action()) && grants(r, kind, role))
            .ok_or(StaffError::Forbidden)
    }

    /// The role among `held` with which `approver` may approve `request`
    /// now: a different person, a role that allows it (and may grant the
    /// role asked for), before the request lapses.
    pub fn approver<'p>(
        policy: &'p StaffPolicy,
        approver: &str,
        held: &[String],
        request: &PendingRequest<'_>,
        now: i64,
    ) -> Result<&'p RolePolicy, StaffError> {
        if approver == request.requested_by {
            return Err(StaffError::Invalid(
                "a request is approved by someone other than the person who made it".into(),
            ));
        }
        if now >= request.expires_at {
            return Err(StaffError::Invalid(
                "this request has lapsed; it must be made again".into(),
            ));
        }
        held.iter()
            .filter_map(|r| policy.role(r))
            .find(|r| r.may(request.kind.approve_action()) && grants(r, request.kind, request.role))
            .ok_or(StaffError::Forbidden)
    }
}

fn grants(role: &RolePolicy, kind: RequestKind, granted: Option<&str>) -> bool {
    match (kind, granted) {
        (RequestKind::Grant, Some(g)) => role.may_grant.contains(g),
        (RequestKind::Grant, None) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn role(id: &str, actions: &[StaffAction], may_grant: &[&str]) -> RolePolicy {
        RolePolicy {
            id: id.into(),
            name: id.into(),
            actions: actions.iter().copied().collect(),
            lookup_purposes: vec![],
            may_grant: may_grant
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<BTreeSet<_>>(),
            readable: vec![],
            verifiable: vec![],
        }
    }

    #[test]
    fn nobody_approves_their_own_request_and_only_allowed_roles_approve() {
        let mut policy = StaffPolicy::default();
        policy.insert(role("support", &[StaffAction::RecoveryRequest], &[]));
        policy.insert(role("registrar", &[StaffAction::RecoveryApprove], &[]));
        policy.insert(role(
            "privacy-officer",
            &[StaffAction::StaffInvite, StaffAction::GrantApprove],
            &["support"],
        ));
        let support = vec!["support".to_owned()];
        let registrar = vec!["registrar".to_owned()];
        let po = vec!["privacy-officer".to_owned()];
        assert!(RequestRule::requester(&policy, &support, RequestKind::Recovery, None).is_ok());
        assert_eq!(
            RequestRule::requester(&policy, &support, RequestKind::Closure, None),
            Err(StaffError::Forbidden)
        );
        let request = PendingRequest {
            kind: RequestKind::Recovery,
            requested_by: "s1",
            expires_at: 100,
            role: None,
        };
        assert!(RequestRule::approver(&policy, "r1", &registrar, &request, 10).is_ok());
        assert!(matches!(
            RequestRule::approver(&policy, "s1", &registrar, &request, 10),
            Err(StaffError::Invalid(_))
        ));
        assert_eq!(
            RequestRule::approver(&policy, "s2", &support, &request, 10),
            Err(StaffError::Forbidden)
        );
        assert!(matches!(
            RequestRule::approver(&policy, "r1", &registrar, &request, 100),
            Err(StaffError::Invalid(_))
        ));
        // Grants: only of a role the approver may grant.
        let grant = PendingRequest {
            kind: RequestKind::Grant,
            requested_by: "p1",
            expires_at: 100,
            role: Some("support"),
        };
        assert!(RequestRule::approver(&policy, "p2", &po, &grant, 10).is_ok());
        let wider = PendingRequest {
            role: Some("privacy-officer"),
            ..grant
        };
        assert_eq!(
            RequestRule::approver(&policy, "p2", &po, &wider, 10),
            Err(StaffError::Forbidden)
        );
        assert_eq!(
            RequestRule::requester(&policy, &po, RequestKind::Grant, Some("registrar")),
            Err(StaffError::Forbidden)
        );
    }
}
