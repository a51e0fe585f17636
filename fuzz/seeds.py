#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from real inputs.

Inputs: fixtures/export1.jsonl and export2.jsonl (made by `sqin ledger
export` on a scratch SQLite deployment with origin fuzz.example/ledger: an
import, a checkpoint, a signing-key rotation, a ledger-key rotation),
pia/inventory.toml, and WebAuthn answers computed here with fixed keys for
the fixed challenge of fuzz_targets/webauthn_ceremony.rs. Deterministic
but for the ECDSA signature in the two login.json seeds (`cryptography`
draws a random nonce): running it again writes the same files otherwise,
and a fresh login.json is as valid as the committed one (python3 with
`cryptography`).
"""
import base64, hashlib, json, os, struct, sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# --- ledger: real notes from the export, and a witness cosignature -------
exports = [open(os.path.join(HERE, "fixtures", f)).read() for f in ("export1.jsonl", "export2.jsonl")]
header = json.loads(exports[0].splitlines()[0])
with open(os.path.join(HERE, "fixtures", "log.vkey"), "w") as f:
    f.write(header["vkey"] + "\n")
notes = []
for text in exports:
    for line in text.splitlines():
        obj = json.loads(line)
        if obj["type"] == "checkpoint" and obj["note"] not in notes:
            notes.append(obj["note"])

WITNESS = "witness.fuzz.example"
wkey = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
wpub = wkey.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
wid = hashlib.sha256(WITNESS.encode() + b"\n\x04" + wpub).digest()[:4]
with open(os.path.join(HERE, "fixtures", "witness.vkey"), "w") as f:
    f.write("%s+%s+%s\n" % (WITNESS, wid.hex(), base64.b64encode(b"\x04" + wpub).decode()))


def cosign(note, ts):
    body = note[: note.rindex("\n\n") + 1]
    sig = wkey.sign(b"cosignature/v1\ntime %d\n" % ts + body.encode())
    return note + "\u2014 %s %s\n" % (WITNESS, base64.b64encode(wid + struct.pack(">Q", ts) + sig).decode())


for i, note in enumerate(notes):
    out("ledger_checkpoint", "note%d" % i, note)
out("ledger_checkpoint", "cosigned", cosign(notes[-1], 1796158400))
out("ledger_checkpoint", "vkey", header["vkey"])

# --- ledger proofs: a size, an index, a mode byte, a few hashes -----------
out("ledger_proofs", "seven", struct.pack(">QQ", 3, 4) + bytes([7]) + hashlib.sha256(b"x").digest() * 3)
out("ledger_proofs", "empty", struct.pack(">QQ", 0, 0) + bytes([0]) + bytes(64))

# --- export ----------------------------------------------------------------
for i, text in enumerate(exports):
    out("ledger_export", "export%d.jsonl" % (i + 1), text)
    # The same export signed under the fuzz origin, with the pinned key's
    # checkpoints only (before the ledger key rotation).
out("ledger_export", "cut-short.jsonl", "\n".join(exports[0].splitlines()[:-1]) + "\n")

# --- PIA ---------------------------------------------------------------------
out("pia_inventory", "inventory.toml", open(os.path.join(ROOT, "pia", "inventory.toml")).read())
out("pia_inventory", "minimal.toml", 'schema_version = 1\n[meta]\ntitle = "x"\n')

# --- CSV ---------------------------------------------------------------------
out("register_csv", "import.csv",
    "register_id,given_name,family_name,birthdate,email,address,locale\n"
    'R-1,Aline,Exemple,1984-03-02,aline@example.org,"1 rue de la Paix, Paris",fr-CA\n'
    "R-2,Bob,Test,1990-01-31,,,en\n")
out("register_csv", "required-only.csv", "register_id,given_name,family_name,birthdate\nA.1,Zoé,Lefèvre,1950-12-31\n")

# --- authorization requests ----------------------------------------------------
out("authorize_request", "code-flow",
    "response_type=code&client_id=family&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    "&scope=openid+profile+birthdate&state=s1&nonce=n1"
    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
out("authorize_request", "claims",
    "scope=openid&claims=" + json.dumps({"id_token": {"birthdate": {"essential": True}, "name": None},
                                         "userinfo": {"address": {"essential": False}, "email": {"value": "x"}}}))

# A request the second client of the target accepts in full: a claims
# parameter within its purpose, prompt, max_age, locales, acr.
out("authorize_request", "claims-flow",
    "response_type=code&client_id=family&redirect_uri=https%3A%2F%2Frp.example%2Fcb%3Fx%3D1"
    "&scope=openid+birthdate&state=s2&nonce=n2&prompt=login+consent&max_age=300&ui_locales=fr-CA+en"
    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    "&claims=" + json.dumps({"id_token": {"birthdate": {"essential": True}, "acr": {"essential": True, "values": ["urn:sqin:loa:substantial"]}},
                             "userinfo": {"name": None}}, separators=(",", ":")).replace("&", "%26"))

# --- token requests --------------------------------------------------------------
basic = base64.b64encode(b"family:s%3Acret").decode()
out("token_request", "basic", "Basic %s\ngrant_type=authorization_code&code=abc&redirect_uri=https%%3A%%2F%%2Frp.example%%2Fcb&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" % basic)
out("token_request", "post", "\ngrant_type=refresh_token&refresh_token=r&client_id=family&client_secret=s")
# RFC 7515 A.3 (ES256 with the key the target trusts), as a client assertion.
jws = ("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
       "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
out("token_request", "assertion", "\ngrant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + jws)
claims = b64u(json.dumps({"iss": "family", "sub": "family", "aud": "https://id.example/token", "exp": 2000000000, "jti": "j1"}).encode())
out("token_request", "assertion-kid", "\nclient_assertion=" + b64u(json.dumps({"alg": "ES256", "kid": "k1", "typ": "JWT"}).encode()) + "." + claims + ".c2ln")
# Claims the checks accept at the target's NOW once the target signs them:
# aud the issuer alone, exp within 10 minutes, a jti.
claims = b64u(json.dumps({"iss": "family", "sub": "family", "aud": "https://id.example", "exp": 2000000000, "nbf": 1999999800, "jti": "j1"}).encode())
out("token_request", "assertion-issuer",
    "\nclient_id=family&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="
    + b64u(json.dumps({"alg": "ES256", "typ": "JWT"}).encode()) + "." + claims + ".c2ln")

# --- WebAuthn ------------------------------------------------------------------
CHALLENGE = bytes(range(1, 33))
ORIGIN = "https://id.example"
RP_HASH = hashlib.sha256(b"id.example").digest()
key = ec.derive_private_key(0x5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed, ec.SECP256R1())
nums = key.public_key().public_numbers()
x, y = nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big")
CRED_ID = bytes(range(100, 116))
USER = bytes([7] * 16)


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)


def cbor(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, str):
        return cbor_head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(i) for i in v)
    if isinstance(v, dict):
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(i) for k, i in v.items())
    raise TypeError(v)


cose = cbor({1: 2, 3: -7, -1: 1, -2: x, -3: y})
UP, UV, AT = 0x01, 0x04, 0x40
auth_reg = RP_HASH + bytes([UP | UV | AT]) + struct.pack(">I", 0) + bytes(16) + struct.pack(">H", len(CRED_ID)) + CRED_ID + cose
cdata_reg = json.dumps({"type": "webauthn.create", "challenge": b64u(CHALLENGE), "origin": ORIGIN, "crossOrigin": False}, separators=(",", ":")).encode()
att = cbor({"fmt": "none", "attStmt": {}, "authData": auth_reg})
registration = {
    "id": b64u(CRED_ID), "rawId": b64u(CRED_ID), "type": "public-key",
    "response": {"attestationObject": b64u(att), "clientDataJSON": b64u(cdata_reg), "transports": ["internal"]},
    "extensions": {},
}
out("webauthn_ceremony", "registration.json", json.dumps(registration, indent=1))
auth_login = RP_HASH + bytes([UP | UV]) + struct.pack(">I", 1)
cdata_login = json.dumps({"type": "webauthn.get", "challenge": b64u(CHALLENGE), "origin": ORIGIN, "crossOrigin": False}, separators=(",", ":")).encode()
sig = key.sign(auth_login + hashlib.sha256(cdata_login).digest(), ec.ECDSA(hashes.SHA256()))
login = {
    "id": b64u(CRED_ID), "rawId": b64u(CRED_ID), "type": "public-key",
    "response": {"authenticatorData": b64u(auth_login), "clientDataJSON": b64u(cdata_login),
                 "signature": b64u(sig), "userHandle": b64u(USER)},
    "extensions": {},
}
out("webauthn_ceremony", "login.json", json.dumps(login, indent=1))
out("webauthn_client_data", "client-data-create.json", cdata_reg)
out("webauthn_client_data", "client-data-get.json", cdata_login)
out("webauthn_client_data", "auth-data-registration", auth_reg)
out("webauthn_client_data", "auth-data-login", auth_login)
out("webauthn_client_data", "attestation-object", att)
out("webauthn_client_data", "registration.json", json.dumps(registration))
out("webauthn_client_data", "login.json", json.dumps(login))
print("seeds written under", os.path.join(HERE, "corpus"))
