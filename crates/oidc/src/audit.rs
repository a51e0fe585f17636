//! The one interface through which the OpenID Provider reports what the
//! consent ledger must record. Every call happens inside the transaction that
//! makes the recorded fact true (the consent stored, the tokens issued), so a
//! disclosure is never acknowledged to a relying party without its entry: if
//! the ledger append fails, the transaction and the response fail with it.
use std::future::Future;
use std::pin::Pin;

use sqin_store::Connection;

/// Where claims left sqin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisclosureChannel {
    IdToken,
    Userinfo,
    Introspection,
}

impl DisclosureChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdToken => "id_token",
            Self::Userinfo => "userinfo",
            Self::Introspection => "introspection",
        }
    }
}

/// A fact the ledger records. Claim *names* only, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditEvent {
    ConsentGranted {
        citizen_id: String,
        client_id: String,
        consent_id: String,
        purpose: String,
        scopes: Vec<String>,
        claims: Vec<String>,
        expires_at: i64,
    },
    ConsentRevoked {
        citizen_id: String,
        client_id: String,
        consent_id: String,
        reason: String,
    },
    ConsentExpired {
        citizen_id: String,
        client_id: String,
        consent_id: String,
    },
    Disclosure {
        citizen_id: String,
        client_id: String,
        consent_id: Option<String>,
        grant_id: String,
        channel: DisclosureChannel,
        claims: Vec<String>,
    },
    SignIn {
        citizen_id: String,
        client_id: String,
        acr: String,
        amr: Vec<String>,
    },
}

pub type AuditFuture<'c> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'c>>;

pub trait AuditSink: Send + Sync {
    /// Appends `event` using `conn`, which is the caller's open transaction.
    fn record<'c>(
        &'c self,
        conn: &'c mut Connection,
        event: AuditEvent,
        now: i64,
    ) -> AuditFuture<'c>;
}
