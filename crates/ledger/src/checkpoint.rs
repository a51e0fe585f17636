//! Checkpoints in the C2SP `tlog-checkpoint` format, signed as C2SP
//! `signed-note`s.
//!
//! A checkpoint is the log's public commitment to its size and root. Using
//! the ecosystem's text format, rather than something bespoke, lets citizens
//! and auditors check sqin's log with existing transparency tooling and lets
//! independent witnesses cosign it: witnesses add their own signature lines,
//! which verifiers that do not know them simply skip.
//!
//! Signing goes through [`NoteSigner`] so that the production key can live in
//! an HSM or KMS; [`EcdsaNoteSigner`] is the in-process implementation.
//!
//! # ECDSA signature type
//!
//! The signed-note spec assigns signature type `0x02` to ECDSA as implemented
//! by `github.com/transparency-dev/witness` (also used by Sigstore Rekor): an
//! ASN.1 DER ECDSA signature over SHA-256 of the note text, with the key id
//! being the first four bytes of SHA-256 of the DER-encoded SPKI public key.
//! Note that for this type the spec deliberately does *not* use the generic
//! `SHA-256(name || 0x0A || type || key)` key-id recommendation, so neither do
//! we: following the assigned type keeps our notes verifiable by that tooling.
//! Verifier keys are exchanged as `<name>+<hex key id>+<base64(0x02 || SPKI)>`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair as _, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING,
};

use crate::hash::{sha256, Hash};
use crate::LedgerError;

/// Signature type byte the signed-note spec assigns to ECDSA.
pub const SIGNATURE_TYPE_ECDSA: u8 = 0x02;

/// Upper bound on signature lines; the spec requires accepting at least 16,
/// and a cap stops a hostile note from making us verify without end.
pub const MAX_SIGNATURES: usize = 100;

/// Upper bound on a note's size, for the same reason.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

pub(crate) const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point:
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) }.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Length of an uncompressed P-256 public key (`0x04 || X || Y`).
const P256_PUBLIC_KEY_LEN: usize = 65;

/// A log's signed statement "I contain `size` entries with root `root`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique identity of the log, e.g. `sqin.example.gov/consent-ledger`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 9162 root of the first `size` leaves.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text that gets signed: `<origin>\n<size>\n<base64 root>\n`.
    pub fn body_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a checkpoint body strictly, so that re-rendering it gives back
    /// exactly the signed bytes.
    ///
    /// Extension lines are rejected: the spec discourages them because
    /// monitors cannot audit them, and this log never writes any.
    pub fn parse_body(text: &str) -> Result<Self, LedgerError> {
        let bad = |msg: &str| LedgerError::MalformedCheckpoint(msg.to_owned());
        check_note_chars(text).map_err(LedgerError::MalformedCheckpoint)?;
        let lines = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("body must end with a newline"))?;
        let mut parts = lines.split('\n');
        let origin = parts.next().unwrap_or_default();
        let size = parts.next().ok_or_else(|| bad("missing tree size line"))?;
        let root = parts.next().ok_or_else(|| bad("missing root hash line"))?;
        if parts.next().is_some() {
            return Err(bad("extension lines are not supported"));
        }
        if origin.is_empty() {
            return Err(bad("origin line is empty"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
        })
    }

    fn validate(&self) -> Result<(), LedgerError> {
        if self.origin.is_empty() {
            return Err(LedgerError::MalformedCheckpoint(
                "origin must not be empty".into(),
            ));
        }
        if self.origin.contains('\n') {
            return Err(LedgerError::MalformedCheckpoint(
                "origin must be a single line".into(),
            ));
        }
        check_note_chars(&self.origin).map_err(LedgerError::MalformedCheckpoint)
    }
}

fn parse_size(line: &str) -> Result<u64, LedgerError> {
    let bad = |msg: &str| LedgerError::MalformedCheckpoint(format!("tree size {line:?}: {msg}"));
    if line.is_empty() {
        return Err(bad("empty"));
    }
    if !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a decimal number"));
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(bad("leading zero"));
    }
    line.parse::<u64>()
        .map_err(|_| bad("does not fit in 64 bits"))
}

fn parse_root(line: &str) -> Result<Hash, LedgerError> {
    let bytes = B64.decode(line).map_err(|e| {
        LedgerError::MalformedCheckpoint(format!("root hash is not canonical base64: {e}"))
    })?;
    Hash::try_from(bytes.as_slice()).map_err(|_| {
        LedgerError::MalformedCheckpoint(format!("root hash is {} bytes, expected 32", bytes.len()))
    })
}

/// The spec forbids ASCII control characters other than newline anywhere in a
/// note; rejecting them stops look-alike renderings (e.g. `\r`) of signed text.
fn check_note_chars(text: &str) -> Result<(), String> {
    match text.chars().find(|c| c.is_ascii_control() && *c != '\n') {
        Some(c) => Err(format!(
            "control character U+{:04X} is not allowed",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

pub(crate) fn validate_key_name(name: &str) -> Result<(), LedgerError> {
    if name.is_empty() || name.contains('+') || name.chars().any(|c| c.is_whitespace()) {
        return Err(LedgerError::InvalidKeyName(name.to_owned()));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(LedgerError::InvalidKeyName(name.to_owned()));
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's key name.
    pub key_name: String,
    /// The signer's key id, as it appears big-endian on the wire.
    pub key_id: [u8; 4],
    /// The raw signature, whose format depends on the key's algorithm.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    fn render(&self, out: &mut String) {
        let mut blob = Vec::with_capacity(4 + self.signature.len());
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&self.signature);
        out.push_str(SIGNATURE_PREFIX);
        out.push_str(&self.key_name);
        out.push(' ');
        out.push_str(&B64.encode(blob));
        out.push('\n');
    }

    fn parse(line: &str, number: usize) -> Result<Self, LedgerError> {
        let bad = |msg: &str| LedgerError::MalformedNote(format!("signature line {number}: {msg}"));
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or_else(|| bad("must start with an em dash (U+2014) and a space"))?;
        let (name, sig) = rest
            .split_once(' ')
            .ok_or_else(|| bad("expected \"<key name> <base64 signature>\""))?;
        validate_key_name(name).map_err(|_| bad("key name is empty or contains spaces or '+'"))?;
        if sig.contains(' ') {
            return Err(bad("unexpected extra field after the signature"));
        }
        let blob = B64
            .decode(sig)
            .map_err(|e| bad(&format!("signature is not canonical base64: {e}")))?;
        let (id, signature) = blob
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("signature is shorter than its 4-byte key id"))?;
        if signature.is_empty() {
            return Err(bad("signature has a key id but no signature bytes"));
        }
        Ok(Self {
            key_name: name.to_owned(),
            key_id: *id,
            signature: signature.to_vec(),
        })
    }
}

/// Produces note signatures; implement it to keep the log key in an HSM/KMS.
pub trait NoteSigner {
    /// The key name written on the signature line.
    fn key_name(&self) -> &str;
    /// The 4-byte key id written before the signature.
    fn key_id(&self) -> [u8; 4];
    /// Signs the note text (the checkpoint body, final newline included).
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, LedgerError>;
}

/// Checks note signatures from one trusted key.
pub trait NoteVerifier {
    /// The trusted key's name.
    fn key_name(&self) -> &str;
    /// The trusted key's 4-byte key id.
    fn key_id(&self) -> [u8; 4];
    /// Whether `signature` is this key's valid signature over `msg`.
    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool;
}

/// A checkpoint with one or more signature lines: a complete signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    /// The exact signed text; kept rather than re-rendered so that
    /// verification always covers the bytes that were actually signed.
    body: String,
    signatures: Vec<NoteSignature>,
}

impl SignedCheckpoint {
    /// Signs a checkpoint with the log key.
    pub fn sign(checkpoint: Checkpoint, signer: &dyn NoteSigner) -> Result<Self, LedgerError> {
        checkpoint.validate()?;
        let body = checkpoint.body_text();
        let mut signed = Self {
            checkpoint,
            body,
            signatures: Vec::new(),
        };
        signed.add_signature(signer)?;
        Ok(signed)
    }

    /// Adds another signature line, e.g. a witness cosignature or a second
    /// log key during rotation.
    pub fn add_signature(&mut self, signer: &dyn NoteSigner) -> Result<(), LedgerError> {
        validate_key_name(signer.key_name())?;
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(LedgerError::SigningFailed(format!(
                "a note carries at most {MAX_SIGNATURES} signatures"
            )));
        }
        let signature = signer.sign(self.body.as_bytes())?;
        if signature.is_empty() {
            return Err(LedgerError::SigningFailed(
                "signer returned an empty signature".into(),
            ));
        }
        self.signatures.push(NoteSignature {
            key_name: signer.key_name().to_owned(),
            key_id: signer.key_id(),
            signature,
        });
        Ok(())
    }

    /// The checkpoint, **unverified**: call [`SignedCheckpoint::verify`]
    /// before trusting it.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// All signature lines, including ones from keys nobody here knows.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Renders the full signed note, ready to publish.
    pub fn to_note_text(&self) -> String {
        let mut out = String::with_capacity(self.body.len() + 1 + 128 * self.signatures.len());
        out.push_str(&self.body);
        out.push('\n');
        for sig in &self.signatures {
            sig.render(&mut out);
        }
        out
    }

    /// Parses a signed checkpoint note, rejecting anything the signed-note
    /// and tlog-checkpoint specs do not allow. Does not verify signatures.
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let bad = |msg: &str| LedgerError::MalformedNote(msg.to_owned());
        if text.len() > MAX_NOTE_BYTES {
            return Err(bad("note is larger than 1 MiB"));
        }
        check_note_chars(text).map_err(LedgerError::MalformedNote)?;
        // The text is separated from the signatures by the last blank line.
        let split = text
            .rfind("\n\n")
            .ok_or_else(|| bad("no blank line between the text and the signatures"))?;
        let (body, rest) = text
            .split_at_checked(split + 1)
            .ok_or_else(|| bad("cannot split the note at its blank line"))?;
        let block = rest.strip_prefix('\n').unwrap_or(rest);
        if block.is_empty() {
            return Err(bad("no signature lines after the blank line"));
        }
        let block = block
            .strip_suffix('\n')
            .ok_or_else(|| bad("the last signature line must end with a newline"))?;
        let signatures = block
            .split('\n')
            .enumerate()
            .map(|(i, line)| NoteSignature::parse(line, i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.len() > MAX_SIGNATURES {
            return Err(bad("too many signature lines"));
        }
        let checkpoint = Checkpoint::parse_body(body)?;
        Ok(Self {
            checkpoint,
            body: body.to_owned(),
            signatures,
        })
    }

    /// Verifies the note against a trusted log key and origin and returns
    /// the checkpoint it vouches for.
    ///
    /// Per the signed-note spec, signatures from other keys are ignored, a
    /// failing signature from the trusted key rejects the whole note, and at
    /// least one signature from it must verify. The origin is checked too,
    /// since a key could be shared by several logs.
    pub fn verify(
        &self,
        expected_origin: &str,
        verifier: &dyn NoteVerifier,
    ) -> Result<&Checkpoint, LedgerError> {
        let mut verified = false;
        for sig in &self.signatures {
            if sig.key_name != verifier.key_name() || sig.key_id != verifier.key_id() {
                continue;
            }
            if !verifier.verify(self.body.as_bytes(), &sig.signature) {
                return Err(LedgerError::BadSignature {
                    key_name: sig.key_name.clone(),
                });
            }
            verified = true;
        }
        if !verified {
            return Err(LedgerError::SignatureMissing {
                key_name: verifier.key_name().to_owned(),
                key_id: u32::from_be_bytes(verifier.key_id()),
            });
        }
        if self.checkpoint.origin != expected_origin {
            return Err(LedgerError::OriginMismatch {
                expected: expected_origin.to_owned(),
                found: self.checkpoint.origin.clone(),
            });
        }
        Ok(&self.checkpoint)
    }
}

impl std::fmt::Display for SignedCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_note_text())
    }
}

impl std::str::FromStr for SignedCheckpoint {
    type Err = LedgerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn p256_spki(public_key: &[u8]) -> Vec<u8> {
    let mut spki = Vec::with_capacity(P256_SPKI_PREFIX.len() + public_key.len());
    spki.extend_from_slice(&P256_SPKI_PREFIX);
    spki.extend_from_slice(public_key);
    spki
}

/// Key id for signature type 0x02: SHA-256 of the SPKI, truncated.
fn ecdsa_key_id(public_key: &[u8]) -> [u8; 4] {
    let digest = sha256(&p256_spki(public_key));
    let [a, b, c, d, ..] = digest;
    [a, b, c, d]
}

fn ecdsa_vkey(key_name: &str, key_id: [u8; 4], public_key: &[u8]) -> String {
    let mut blob = vec![SIGNATURE_TYPE_ECDSA];
    blob.extend_from_slice(&p256_spki(public_key));
    format!(
        "{key_name}+{:08x}+{}",
        u32::from_be_bytes(key_id),
        B64.encode(blob)
    )
}

/// The log's signing key held in process: ECDSA P-256 with SHA-256.
pub struct EcdsaNoteSigner {
    key_name: String,
    key_id: [u8; 4],
    key_pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for EcdsaNoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdsaNoteSigner")
            .field("key_name", &self.key_name)
            .field(
                "key_id",
                &format_args!("{:08x}", u32::from_be_bytes(self.key_id)),
            )
            .finish_non_exhaustive()
    }
}

impl EcdsaNoteSigner {
    /// Generates a new P-256 private key as a PKCS#8 v1 document, for
    /// provisioning a log key.
    pub fn generate_pkcs8() -> Result<Vec<u8>, LedgerError> {
        let rng = SystemRandom::new();
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| LedgerError::Random)
    }

    /// Loads a P-256 private key from a PKCS#8 document (DER, not PEM).
    pub fn from_pkcs8(key_name: &str, pkcs8: &[u8]) -> Result<Self, LedgerError> {
        validate_key_name(key_name)?;
        let rng = SystemRandom::new();
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|e| LedgerError::InvalidKey(format!("not a P-256 PKCS#8 private key: {e}")))?;
        let key_id = ecdsa_key_id(key_pair.public_key().as_ref());
        Ok(Self {
            key_name: key_name.to_owned(),
            key_id,
            key_pair,
            rng,
        })
    }

    /// The uncompressed public key (`0x04 || X || Y`, 65 bytes).
    pub fn public_key(&self) -> &[u8] {
        self.key_pair.public_key().as_ref()
    }

    /// The matching verifier, e.g. to self-check a checkpoint before
    /// publishing it.
    pub fn verifier(&self) -> Result<EcdsaNoteVerifier, LedgerError> {
        EcdsaNoteVerifier::new(&self.key_name, self.public_key())
    }

    /// The verifier key string to publish for auditors.
    pub fn vkey(&self) -> String {
        ecdsa_vkey(&self.key_name, self.key_id, self.public_key())
    }
}

impl NoteSigner for EcdsaNoteSigner {
    fn key_name(&self) -> &str {
        &self.key_name
    }

    fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, LedgerError> {
        self.key_pair
            .sign(&self.rng, msg)
            .map(|sig| sig.as_ref().to_vec())
            .map_err(|e| LedgerError::SigningFailed(e.to_string()))
    }
}

/// A trusted log public key: ECDSA P-256 with SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcdsaNoteVerifier {
    key_name: String,
    key_id: [u8; 4],
    public_key: Vec<u8>,
}

impl EcdsaNoteVerifier {
    /// Trusts `public_key` (uncompressed SEC1 point, 65 bytes) under
    /// `key_name`.
    pub fn new(key_name: &str, public_key: &[u8]) -> Result<Self, LedgerError> {
        validate_key_name(key_name)?;
        if public_key.len() != P256_PUBLIC_KEY_LEN || public_key.first() != Some(&0x04) {
            return Err(LedgerError::InvalidKey(
                "expected a 65-byte uncompressed P-256 public key".into(),
            ));
        }
        Ok(Self {
            key_name: key_name.to_owned(),
            key_id: ecdsa_key_id(public_key),
            public_key: public_key.to_vec(),
        })
    }

    /// Parses a verifier key `<name>+<hex key id>+<base64(0x02 || SPKI)>`,
    /// checking that the key id matches the key.
    pub fn from_vkey(vkey: &str) -> Result<Self, LedgerError> {
        let bad = |msg: &str| LedgerError::InvalidKey(format!("verifier key: {msg}"));
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("key id must be 8 hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| bad("key id is not hex"))?;
        let blob = B64
            .decode(key_b64)
            .map_err(|_| bad("key is not canonical base64"))?;
        let (ty, spki) = blob.split_first().ok_or_else(|| bad("key is empty"))?;
        if *ty != SIGNATURE_TYPE_ECDSA {
            return Err(bad("not an ECDSA (type 0x02) key"));
        }
        let public_key = spki
            .strip_prefix(P256_SPKI_PREFIX.as_slice())
            .ok_or_else(|| bad("not an uncompressed P-256 SubjectPublicKeyInfo"))?;
        let verifier = Self::new(name, public_key)?;
        if u32::from_be_bytes(verifier.key_id) != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(verifier)
    }

    /// The verifier key string, for configuration files and publication.
    pub fn vkey(&self) -> String {
        ecdsa_vkey(&self.key_name, self.key_id, &self.public_key)
    }

    /// The uncompressed public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }
}

impl NoteVerifier for EcdsaNoteVerifier {
    fn key_name(&self) -> &str {
        &self.key_name
    }

    fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.public_key)
            .verify(msg, signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests;
