//! Wires the OpenID Provider's audit events to the consent ledger.
use sqin_ledger_service::{DisclosureEndpoint, Ledger, LedgerEvent};
use sqin_oidc::audit::{AuditEvent, AuditFuture, AuditSink, DisclosureChannel};
use sqin_store::Connection;

/// Appends each event to the consent ledger inside the caller's transaction,
/// so the fact and its entry commit (or fail) together.
pub struct LedgerAudit {
    pub ledger: Ledger,
}

fn to_ledger(event: AuditEvent) -> LedgerEvent {
    match event {
        AuditEvent::ConsentGranted {
            citizen_id,
            client_id,
            consent_id,
            purpose,
            scopes,
            claims,
            expires_at,
        } => LedgerEvent::ConsentGranted {
            citizen_id,
            client_id,
            consent_id,
            purpose,
            scopes,
            claims,
            notice_version: None,
            expires_at,
        },
        AuditEvent::ConsentRevoked {
            citizen_id,
            client_id,
            consent_id,
            reason,
        } => LedgerEvent::ConsentRevoked {
            citizen_id,
            client_id,
            consent_id,
            reason,
        },
        AuditEvent::ConsentExpired {
            citizen_id,
            client_id,
            consent_id,
        } => LedgerEvent::ConsentExpired {
            citizen_id,
            client_id,
            consent_id,
        },
        AuditEvent::Disclosure {
            citizen_id,
            client_id,
            consent_id,
            grant_id,
            channel,
            claims,
        } => LedgerEvent::Disclosure {
            citizen_id,
            client_id,
            consent_id,
            grant_id: Some(grant_id),
            endpoint: match channel {
                DisclosureChannel::IdToken => DisclosureEndpoint::IdToken,
                DisclosureChannel::Userinfo => DisclosureEndpoint::Userinfo,
                DisclosureChannel::Introspection => DisclosureEndpoint::Introspection,
            },
            claims,
        },
        AuditEvent::SignIn {
            citizen_id,
            client_id,
            acr,
            amr,
        } => LedgerEvent::SignIn {
            citizen_id,
            client_id: Some(client_id),
            acr,
            amr,
            passkey: None,
        },
    }
}

impl AuditSink for LedgerAudit {
    fn record<'c>(
        &'c self,
        conn: &'c mut Connection,
        event: AuditEvent,
        now: i64,
    ) -> AuditFuture<'c> {
        Box::pin(async move {
            sqin_ledger_service::append(conn, &self.ledger, to_ledger(event), now)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
