// sqin's WebAuthn helpers, shared by the citizens' pages (passkeys.js) and
// the staff console (staff.js): the standard WebAuthn JSON shapes, the
// CSRF-protected JSON calls, and the status messages the pages carry as
// data-msg-* attributes. Same origin only (the CSP allows no inline script).
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  // --- base64url <-> ArrayBuffer, for browsers without the JSON helpers.
  function b64urlToBuf(s) {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    const o = Object.assign({}, json);
    o.challenge = b64urlToBuf(json.challenge);
    o.user = Object.assign({}, json.user, { id: b64urlToBuf(json.user.id) });
    o.excludeCredentials = (json.excludeCredentials || []).map((c) => Object.assign({}, c, { id: b64urlToBuf(c.id) }));
    return o;
  }
  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    const o = Object.assign({}, json);
    o.challenge = b64urlToBuf(json.challenge);
    o.allowCredentials = (json.allowCredentials || []).map((c) => Object.assign({}, c, { id: b64urlToBuf(c.id) }));
    return o;
  }
  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      try { return cred.toJSON(); } catch (e) { /* fall through */ }
    }
    const r = cred.response;
    const out = { id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type, response: {},
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {} };
    out.response.clientDataJSON = bufToB64url(r.clientDataJSON);
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return out;
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await res.json(); } catch (e) { /* empty body */ }
    if (!res.ok) {
      const err = new Error(data.error || "http_" + res.status);
      err.code = data.error || "failed";
      throw err;
    }
    return data;
  }

  function say(root, key, kind) {
    const statusBox = document.getElementById("status");
    if (!statusBox) return;
    const text = root.dataset["msg" + key.charAt(0).toUpperCase() + key.slice(1)] || root.dataset.msgFailed || key;
    statusBox.className = "status" + (kind ? " " + kind : "");
    statusBox.textContent = text;
  }
  function messageFor(err) {
    if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) return "cancelled";
    if (err && err.name === "InvalidStateError") return "exists";
    switch (err && err.code) {
      case "passkey_rejected": case "sign_count_regression": case "code_refused": return "refused";
      case "ceremony_expired": return "expired";
      case "already_registered": return "exists";
      case "rate_limited": return "busy";
      case "reauthentication_required": return "reauth";
      default: return "failed";
    }
  }
  function supported(root) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(root, "unsupported", "error");
      return false;
    }
    return true;
  }
  function busy(button, on) {
    if (!button) return;
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  window.SqinWebAuthn = { creationOptions, requestOptions, credentialJSON, post, say, messageFor, supported, busy };
})();
