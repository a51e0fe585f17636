//! OAuth 2.0 / OpenID Connect error codes (RFC 6749 4.1.2.1 and 5.2, OIDC Core
//! 3.1.2.6, RFC 6750 3.1, RFC 7009 2.2.1), mapped to HTTP once in the server.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    /// The server cannot answer for now (its database is out of reach):
    /// RFC 6749 4.1.2.1, and at the token endpoint a 503 with the same code.
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidToken,
    UnsupportedTokenType,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidToken => "invalid_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
        }
    }
}

/// An error a client is told about: a code and a human-readable description
/// that never contains secrets or personal data. The description is kept
/// within RFC 6749's character set for `error_description` (%x20-21 /
/// %x23-5B / %x5D-7E) whatever it echoes, by [`OAuthError::new`], through
/// which every constructor goes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: sanitize_description(&description.into()),
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }

    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }

    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }

    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }

    /// The database is out of reach: the client may try again shortly.
    pub fn temporarily_unavailable() -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the service is temporarily unavailable; try again in a few seconds",
        )
    }

    pub fn server_error() -> Self {
        Self::new(
            ErrorCode::ServerError,
            "the server could not complete the request",
        )
    }
}

/// The longest `error_description` sent, in characters.
const MAX_DESCRIPTION_CHARS: usize = 256;

/// `text` within RFC 6749's `error_description` character set (4.1.2.1,
/// 5.2): printable ASCII except `"` and `\`. A double quote becomes a single
/// one, anything else outside the set (a backslash, a control character,
/// non-ASCII such as an accented letter echoed from the request) a `?`; at
/// most [`MAX_DESCRIPTION_CHARS`] characters.
pub fn sanitize_description(text: &str) -> String {
    text.chars()
        .take(MAX_DESCRIPTION_CHARS)
        .map(|c| match c {
            '"' => '\'',
            '\x20'..='\x7e' if c != '\\' => c,
            _ => '?',
        })
        .collect()
}

/// Internal failures become `server_error` for the client and are logged
/// here; their details never reach the response. A database out of reach is
/// `temporarily_unavailable` instead (a 503 at the HTTP edge), noted at
/// debug level only: the store logs the loss once, and its probe is started
/// here.
impl From<crate::OidcError> for OAuthError {
    fn from(e: crate::OidcError) -> Self {
        if sqin_store::health::report_cause(&e) {
            tracing::debug!(error = %e, "database unavailable");
            return Self::temporarily_unavailable();
        }
        tracing::error!(error = %e, "internal error in an OAuth endpoint");
        Self::server_error()
    }
}

impl From<sqin_store::StoreError> for OAuthError {
    fn from(e: sqin_store::StoreError) -> Self {
        crate::OidcError::from(e).into()
    }
}

impl From<sqin_store::SqlxError> for OAuthError {
    fn from(e: sqin_store::SqlxError) -> Self {
        crate::OidcError::from(e).into()
    }
}

impl From<sqin_crypto::CryptoError> for OAuthError {
    fn from(e: sqin_crypto::CryptoError) -> Self {
        crate::OidcError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_stay_within_the_rfc_6749_character_set() {
        let e = OAuthError::invalid_request("unknown prompt value é\"\\<x>\u{7f}\n\t");
        assert_eq!(e.description, "unknown prompt value ?'?<x>???");
        assert!(e
            .description
            .bytes()
            .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)));
        let long = OAuthError::invalid_request("x".repeat(10_000));
        assert_eq!(long.description.len(), MAX_DESCRIPTION_CHARS);
        assert_eq!(
            OAuthError::invalid_grant("the refresh token is invalid").description,
            "the refresh token is invalid"
        );
    }
}
