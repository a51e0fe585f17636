use sqin_crypto::{normalise_typed_code, random_bytes, HmacKey, SecretString, ENROLMENT_ALPHABET};
use sqin_store::enrolment::{self, CodePurpose, EnrolmentCode};
use sqin_store::Connection;

use crate::RegisterError;

/// After this many wrong birthdates a code is locked and must be reissued.
pub const CODE_MAX_FAILED_ATTEMPTS: i64 = 5;

/// Issues and checks enrolment codes.
///
/// A code is 16 symbols of Crockford base32 (80 bits), short enough to type
/// from a letter, far too many to guess within the attempt limits. Only
/// HMAC-SHA256(code key, normalised code) is stored, the key itself sealed
/// under the key-encryption key, so the database alone does not let anyone
/// recover or test codes offline.
#[derive(Debug, Clone)]
pub struct EnrolmentCodeIssuer {
    key: HmacKey,
    ttl_secs: i64,
}

/// A freshly issued code: the only moment its clear text exists.
#[derive(Debug)]
pub struct IssuedCode {
    pub code: SecretString,
    pub expires_at: i64,
}

/// What checking a typed code found. Deliberately coarse: the enrolment page
/// shows one generic error whatever the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    Usable(EnrolmentCode),
    Unusable,
}

impl EnrolmentCodeIssuer {
    pub fn new(key: HmacKey, ttl_secs: i64) -> Self {
        Self { key, ttl_secs }
    }

    pub fn hash(&self, typed: &str) -> Vec<u8> {
        self.key
            .sign(&[normalise_typed_code(typed).as_bytes()])
            .to_vec()
    }

    /// Issues a new code for a citizen and revokes any code still open, in the
    /// caller's transaction.
    pub async fn issue(
        &self,
        conn: &mut Connection,
        citizen_id: &str,
        purpose: CodePurpose,
        now: i64,
    ) -> Result<IssuedCode, RegisterError> {
        let raw = random_bytes::<16>()?;
        let symbols: String = raw
            .iter()
            .map(|b| char::from(ENROLMENT_ALPHABET[usize::from(b & 31)]))
            .collect();
        let grouped = symbols
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        let code = SecretString::new(grouped);
        enrolment::revoke_open(conn, citizen_id, now).await?;
        let expires_at = now + self.ttl_secs;
        enrolment::insert(
            conn,
            &EnrolmentCode {
                code_hash: self.hash(code.expose()),
                citizen_id: citizen_id.to_owned(),
                purpose,
                issued_at: now,
                expires_at,
                spent_at: None,
                revoked_at: None,
                failed_attempts: 0,
            },
        )
        .await?;
        Ok(IssuedCode { code, expires_at })
    }

    /// Looks a typed code up without spending it.
    pub async fn check(
        &self,
        conn: &mut Connection,
        typed: &str,
        now: i64,
    ) -> Result<CodeCheck, RegisterError> {
        let found = enrolment::find(conn, &self.hash(typed)).await?;
        Ok(match found {
            Some(code)
                if code.spent_at.is_none()
                    && code.revoked_at.is_none()
                    && code.expires_at > now
                    && code.failed_attempts < CODE_MAX_FAILED_ATTEMPTS =>
            {
                CodeCheck::Usable(code)
            }
            _ => CodeCheck::Unusable,
        })
    }

    /// Spends a code: true for exactly one caller, never after expiry, revocation
    /// or lock-out.
    pub async fn spend(
        &self,
        conn: &mut Connection,
        typed: &str,
        now: i64,
    ) -> Result<bool, RegisterError> {
        Ok(enrolment::spend(conn, &self.hash(typed), now, CODE_MAX_FAILED_ATTEMPTS).await?)
    }

    /// Counts a failed second factor against a code; true when it is now locked.
    pub async fn record_failure(
        &self,
        conn: &mut Connection,
        typed: &str,
    ) -> Result<bool, RegisterError> {
        let attempts = enrolment::record_failure(conn, &self.hash(typed)).await?;
        Ok(attempts >= CODE_MAX_FAILED_ATTEMPTS)
    }
}
