//! The editable part of a relying party's registration: what a four-eyes
//! request carries until a privacy officer approves it, what the admin API
//! reads and writes, and what governance entries name (never a secret).
use serde::{Deserialize, Serialize};
use sqin_oidc::client::ClientRegistration;
use sqin_store::clients::{AuthMethod, ClientRecord, ClientType, SigningAlg, SubjectType};

use crate::{AppError, AppResult};

/// A client's metadata, in RFC 7591 names where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetadata {
    pub client_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name_fr: Option<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<String>>,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_fr: Option<String>,
    pub sector_identifier: String,
    pub subject_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pia_entry: Option<String>,
    /// `None` only in a request recorded before clients chose it: the
    /// client keeps its algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<SigningAlg>,
}

impl ClientMetadata {
    pub fn of(c: &ClientRecord) -> Self {
        Self {
            client_name: c.name.clone(),
            client_name_fr: c.name_fr.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            scope: c.scopes.join(" "),
            claims: c.claims.clone(),
            purpose: c.purpose.clone(),
            purpose_fr: c.purpose_fr.clone(),
            sector_identifier: c.sector.clone(),
            subject_type: c.subject_type.as_str().to_owned(),
            jwks: c.jwks.as_deref().and_then(|j| serde_json::from_str(j).ok()),
            jwks_uri: c.jwks_uri.clone(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            pia_entry: c.pia_entry.clone(),
            id_token_signed_response_alg: Some(c.id_token_signed_response_alg),
        }
    }

    /// The registration that describes this metadata for a client of
    /// `client_type` authenticating with `method` (which an edit keeps).
    pub fn to_registration(
        &self,
        client_type: ClientType,
        method: AuthMethod,
    ) -> ClientRegistration {
        ClientRegistration {
            client_id: None,
            name: self.client_name.clone(),
            name_fr: self.client_name_fr.clone(),
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            scopes: vec![self.scope.clone()],
            claims: self.claims.clone(),
            purpose: Some(self.purpose.clone()),
            purpose_fr: self.purpose_fr.clone(),
            sector: Some(self.sector_identifier.clone()),
            public_client: client_type == ClientType::Public,
            auth_method: Some(method),
            jwks: self.jwks.as_ref().map(ToString::to_string),
            jwks_uri: self.jwks_uri.clone(),
            public_subject: self.subject_type == "public",
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            id_token_signed_response_alg: self.id_token_signed_response_alg,
        }
    }

    /// The fields that differ from `other`.
    pub fn changed(&self, other: &Self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut diff = |name: &'static str, same: bool| {
            if !same {
                out.push(name);
            }
        };
        diff("client_name", self.client_name == other.client_name);
        diff(
            "client_name#fr",
            self.client_name_fr == other.client_name_fr,
        );
        diff("redirect_uris", self.redirect_uris == other.redirect_uris);
        diff(
            "post_logout_redirect_uris",
            self.post_logout_redirect_uris == other.post_logout_redirect_uris,
        );
        diff("scope", self.scope == other.scope);
        diff("claims", self.claims == other.claims);
        diff("purpose", self.purpose == other.purpose);
        diff("purpose#fr", self.purpose_fr == other.purpose_fr);
        diff(
            "sector_identifier",
            self.sector_identifier == other.sector_identifier,
        );
        diff("subject_type", self.subject_type == other.subject_type);
        diff("jwks", self.jwks == other.jwks);
        diff("jwks_uri", self.jwks_uri == other.jwks_uri);
        diff(
            "backchannel_logout_uri",
            self.backchannel_logout_uri == other.backchannel_logout_uri,
        );
        diff("pia_entry", self.pia_entry == other.pia_entry);
        diff(
            "id_token_signed_response_alg",
            self.id_token_signed_response_alg == other.id_token_signed_response_alg,
        );
        out
    }

    /// The values of `fields`, as a governance entry records them: public
    /// metadata only (URIs, scopes, claims, sector), never key material.
    pub fn public_summary_of(&self, fields: &[&str]) -> String {
        let mut parts = Vec::new();
        for f in fields {
            let value = match *f {
                "client_name" => self.client_name.clone(),
                "client_name#fr" => self.client_name_fr.clone().unwrap_or_default(),
                "redirect_uris" => self.redirect_uris.join(" "),
                "post_logout_redirect_uris" => self.post_logout_redirect_uris.join(" "),
                "scope" => self.scope.clone(),
                "claims" => self.claims.clone().unwrap_or_default().join(" "),
                "purpose" => self.purpose.clone(),
                "purpose#fr" => self.purpose_fr.clone().unwrap_or_default(),
                "sector_identifier" => self.sector_identifier.clone(),
                "subject_type" => self.subject_type.clone(),
                "jwks" => "(key set replaced)".to_owned(),
                "jwks_uri" => self.jwks_uri.clone().unwrap_or_default(),
                "backchannel_logout_uri" => self.backchannel_logout_uri.clone().unwrap_or_default(),
                "pia_entry" => self.pia_entry.clone().unwrap_or_default(),
                "id_token_signed_response_alg" => self
                    .id_token_signed_response_alg
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                _ => continue,
            };
            parts.push(format!("{f}={value}"));
        }
        parts.join("; ")
    }

    /// Every public field, for the registration's entry.
    pub fn public_summary(&self) -> String {
        self.public_summary_of(&[
            "client_name",
            "redirect_uris",
            "post_logout_redirect_uris",
            "scope",
            "claims",
            "sector_identifier",
            "subject_type",
            "jwks_uri",
            "backchannel_logout_uri",
            "id_token_signed_response_alg",
        ])
    }

    /// `current` with this metadata (what an approval applies).
    pub fn applied_to(&self, current: &ClientRecord, now: i64) -> AppResult<ClientRecord> {
        let mut next = current.clone();
        next.name = self.client_name.clone();
        next.name_fr = self.client_name_fr.clone();
        next.redirect_uris = self.redirect_uris.clone();
        next.post_logout_redirect_uris = self.post_logout_redirect_uris.clone();
        next.scopes = self.scope.split_whitespace().map(str::to_owned).collect();
        next.claims = self.claims.clone();
        next.purpose = self.purpose.clone();
        next.purpose_fr = self.purpose_fr.clone();
        next.sector = self.sector_identifier.clone();
        next.subject_type = match self.subject_type.as_str() {
            "public" => SubjectType::Public,
            "pairwise" => SubjectType::Pairwise,
            other => {
                return Err(AppError::Conflict(format!(
                    "the request carries subject type {other:?}"
                )))
            }
        };
        next.jwks = self.jwks.as_ref().map(ToString::to_string);
        next.jwks_uri = self.jwks_uri.clone();
        next.backchannel_logout_uri = self.backchannel_logout_uri.clone();
        next.pia_entry = self.pia_entry.clone();
        if let Some(alg) = self.id_token_signed_response_alg {
            next.id_token_signed_response_alg = alg;
        }
        next.updated_at = now;
        Ok(next)
    }
}

/// What a four-eyes request about a relying party asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RequestPayload {
    /// Make a pending registration active.
    Register,
    /// Apply this metadata, if the client is still at `base_version`.
    Edit {
        base_version: i64,
        metadata: Box<ClientMetadata>,
    },
}

impl RequestPayload {
    pub fn to_json(&self) -> AppResult<String> {
        serde_json::to_string(self)
            .map_err(|e| AppError::Conflict(format!("cannot record the request: {e}")))
    }

    /// What it asks, in words for the approver: the new values of what it
    /// changes (public metadata only).
    pub fn describe(&self) -> String {
        match self {
            Self::Register => "a new relying party: make it active".to_owned(),
            Self::Edit { metadata, .. } => metadata.public_summary(),
        }
    }

    pub fn from_json(text: &str) -> AppResult<Self> {
        serde_json::from_str(text)
            .map_err(|e| AppError::Conflict(format!("the request's change is unreadable: {e}")))
    }
}
