//! What a relying party may be registered for: its entry in the privacy
//! impact assessment's register of relying parties. Registration, every
//! edit and start-up hold a client to its entry, and name each difference,
//! so that what ministries receive is what the assessment allows, not what
//! someone typed.
use sqin_store::clients::{ClientRecord, SubjectType};
use url::Url;

use super::ClientRegistration;
use crate::{claims, OidcError};

/// One PIA entry, as the code needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationBounds {
    /// The entry's id.
    pub entry: String,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// The claims it may receive.
    pub claims: Vec<String>,
    /// Its pairwise sector: two entries in different sectors never see the
    /// same `sub`.
    pub sector: String,
    /// Hosts its URIs (redirect, logout, keys) may use: a host, or
    /// `*.domain` for any subdomain of domain.
    pub hosts: Vec<String>,
    /// Whether the assessment allows it the same `sub` as every sector.
    pub public_subject: bool,
    /// The purpose the citizen reads, in English and French.
    pub purpose: String,
    pub purpose_fr: String,
}

/// One way a registration goes beyond its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overreach {
    /// The RFC 7591 metadata field.
    pub field: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Overreach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(&domain.to_ascii_lowercase())
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => pattern.eq_ignore_ascii_case(&host),
    }
}

impl RegistrationBounds {
    fn host_allowed(&self, uri: &str) -> bool {
        Url::parse(uri)
            .ok()
            .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
            .is_some_and(|h| self.hosts.iter().any(|p| host_matches(p, &h)))
    }

    /// The claims a client receives: those it registered, or every claim
    /// of its scopes.
    fn effective_claims<'a>(scopes: &'a [String], registered: Option<&'a [String]>) -> Vec<String> {
        match registered {
            Some(c) => c.to_vec(),
            None => claims::claims_for_scopes(scopes.iter().map(String::as_str))
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    fn overreach(
        &self,
        scopes: &[String],
        claims: Option<&[String]>,
        sector: &str,
        public_subject: bool,
        uris: &[(&'static str, &str)],
    ) -> Vec<Overreach> {
        let mut out = Vec::new();
        for s in scopes.iter().filter(|s| !self.scopes.contains(s)) {
            out.push(Overreach {
                field: "scope",
                detail: format!(
                    "{s:?} is not in PIA entry {} (it allows: {})",
                    self.entry,
                    self.scopes.join(" ")
                ),
            });
        }
        for c in Self::effective_claims(scopes, claims)
            .iter()
            .filter(|c| !self.claims.contains(c))
        {
            out.push(Overreach {
                field: "claims",
                detail: format!(
                    "{c:?} is not in PIA entry {} (it allows: {})",
                    self.entry,
                    self.claims.join(", ")
                ),
            });
        }
        if !sector.eq_ignore_ascii_case(&self.sector) {
            out.push(Overreach {
                field: "sector_identifier",
                detail: format!(
                    "{sector:?} is not PIA entry {}'s sector ({})",
                    self.entry, self.sector
                ),
            });
        }
        if public_subject && !self.public_subject {
            out.push(Overreach {
                field: "subject_type",
                detail: format!(
                    "public: PIA entry {} gives no reason for a public sub (pairwise only)",
                    self.entry
                ),
            });
        }
        for (field, uri) in uris {
            if !self.host_allowed(uri) {
                out.push(Overreach {
                    field,
                    detail: format!(
                        "{uri:?} is outside the hosts of PIA entry {} ({})",
                        self.entry,
                        self.hosts.join(", ")
                    ),
                });
            }
        }
        out
    }

    /// Validates `registration` within this entry: what it leaves unsaid
    /// (sector, claims) is the entry's, what it asks beyond the entry is
    /// refused, every difference named.
    pub fn admit(&self, registration: ClientRegistration) -> Result<ClientRegistration, OidcError> {
        let mut reg = registration;
        if reg.sector.as_deref().is_none_or(|s| s.trim().is_empty()) {
            reg.sector = Some(self.sector.clone());
        }
        let explicit_claims = reg.claims.is_some();
        let reg = reg.validate()?;
        let mut reg = reg;
        if !explicit_claims {
            // Nothing said: the claims of its scopes that the entry allows.
            let carried = Self::effective_claims(&reg.scopes, None);
            reg.claims = Some(
                carried
                    .into_iter()
                    .filter(|c| self.claims.contains(c))
                    .collect(),
            );
        }
        let mut uris: Vec<(&'static str, &str)> = Vec::new();
        uris.extend(
            reg.redirect_uris
                .iter()
                .map(|u| ("redirect_uris", u.as_str())),
        );
        uris.extend(
            reg.post_logout_redirect_uris
                .iter()
                .map(|u| ("post_logout_redirect_uris", u.as_str())),
        );
        uris.extend(
            reg.backchannel_logout_uri
                .iter()
                .map(|u| ("backchannel_logout_uri", u.as_str())),
        );
        uris.extend(reg.jwks_uri.iter().map(|u| ("jwks_uri", u.as_str())));
        let found = self.overreach(
            &reg.scopes,
            reg.claims.as_deref(),
            reg.sector.as_deref().unwrap_or_default(),
            reg.public_subject,
            &uris,
        );
        if found.is_empty() {
            Ok(reg)
        } else {
            Err(OidcError::BeyondPia {
                entry: self.entry.clone(),
                overreach: found,
            })
        }
    }

    /// How a stored client goes beyond this entry (start-up checks every
    /// client: the assessment may have narrowed since it was registered).
    pub fn check(&self, c: &ClientRecord) -> Vec<Overreach> {
        let mut uris: Vec<(&'static str, &str)> = Vec::new();
        uris.extend(
            c.redirect_uris
                .iter()
                .map(|u| ("redirect_uris", u.as_str())),
        );
        uris.extend(
            c.post_logout_redirect_uris
                .iter()
                .map(|u| ("post_logout_redirect_uris", u.as_str())),
        );
        uris.extend(
            c.backchannel_logout_uri
                .iter()
                .map(|u| ("backchannel_logout_uri", u.as_str())),
        );
        uris.extend(c.jwks_uri.iter().map(|u| ("jwks_uri", u.as_str())));
        self.overreach(
            &c.scopes,
            c.claims.as_deref(),
            &c.sector,
            c.subject_type == SubjectType::Public,
            &uris,
        )
    }
}

/// What an edit widens, so that it takes effect only once a privacy
/// officer approves it: more scopes or claims, another sector, a public
/// `sub`, another PIA entry. Empty when the edit only narrows or changes
/// what needs no approval (URIs within the entry's hosts, names, keys).
pub fn widening(before: &ClientRecord, after: &ClientRecord) -> Vec<&'static str> {
    let mut out = Vec::new();
    if after.scopes.iter().any(|s| !before.scopes.contains(s)) {
        out.push("scope");
    }
    let old = RegistrationBounds::effective_claims(&before.scopes, before.claims.as_deref());
    let new = RegistrationBounds::effective_claims(&after.scopes, after.claims.as_deref());
    if new.iter().any(|c| !old.contains(c)) {
        out.push("claims");
    }
    if !after.sector.eq_ignore_ascii_case(&before.sector) {
        out.push("sector_identifier");
    }
    if after.subject_type == SubjectType::Public && before.subject_type != SubjectType::Public {
        out.push("subject_type");
    }
    if after.pia_entry != before.pia_entry {
        out.push("pia_entry");
    }
    if after.purpose != before.purpose || after.purpose_fr != before.purpose_fr {
        // What citizens are told they consent to.
        out.push("purpose");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_as_subdomains() {
        assert!(host_matches("famille.example", "FAMILLE.example"));
        assert!(host_matches("*.famille.example", "portail.famille.example"));
        assert!(!host_matches("*.famille.example", "famille.example"));
        assert!(!host_matches("*.famille.example", "evilfamille.example"));
        assert!(!host_matches("famille.example", "portail.famille.example"));
    }
}
