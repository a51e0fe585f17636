// sqin passkey pages: the only script, served from the same origin (the CSP
// allows no inline script). It talks to the JSON endpoints documented in
// docs/passkeys.md with the standard WebAuthn JSON shapes.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const statusBox = document.getElementById("status");

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

  // --- Sign in: conditional UI in the identifier field when the browser
  // supports it, a button for a modal request, and the identifier form.
  async function setupLogin(root) {
    const request = root.dataset.request || undefined;
    let conditional = null;

    async function finish(started, cred) {
      say(root, "working");
      const done = await post("/api/passkeys/login/finish", { ceremony: started.ceremony, credential: credentialJSON(cred) });
      window.location.assign(done.redirect);
    }
    async function run(body, button) {
      if (conditional) { conditional.abort(); conditional = null; }
      busy(button, true);
      try {
        const started = await post("/api/passkeys/login/start", Object.assign({ request: request }, body));
        const cred = await navigator.credentials.get({ publicKey: requestOptions(started.publicKey) });
        await finish(started, cred);
      } catch (err) {
        say(root, messageFor(err), "error");
      } finally {
        busy(button, false);
      }
    }
    if (!supported(root)) return;
    const button = document.getElementById("passkey-login");
    button.addEventListener("click", () => run({}, button));
    const form = document.getElementById("login-id");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const id = document.getElementById("register_id").value.trim();
      const submit = form.querySelector("button[type=submit]");
      run(id ? { register_id: id } : {}, submit);
    });
    if (PublicKeyCredential.isConditionalMediationAvailable && await PublicKeyCredential.isConditionalMediationAvailable()) {
      try {
        const started = await post("/api/passkeys/login/start", { conditional: true, request: request });
        conditional = new AbortController();
        const cred = await navigator.credentials.get({
          publicKey: requestOptions(started.publicKey), mediation: "conditional", signal: conditional.signal,
        });
        conditional = null;
        await finish(started, cred);
      } catch (err) {
        if (err && err.name !== "AbortError") say(root, messageFor(err), "error");
      }
    }
  }

  // --- Register a passkey: with an enrolment grant, or from the account page.
  function setupRegister(root, urls, extra) {
    if (!supported(root)) return;
    root.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = root.querySelector("button[type=submit]");
      const nameInput = root.querySelector("input[name=name]");
      busy(button, true);
      try {
        const started = await post(urls.start, extra);
        const cred = await navigator.credentials.create({ publicKey: creationOptions(started.publicKey) });
        say(root, "working");
        const done = await post(urls.finish, {
          ceremony: started.ceremony, credential: credentialJSON(cred), name: nameInput ? nameInput.value : "",
        });
        window.location.assign(done.redirect);
      } catch (err) {
        const key = messageFor(err);
        say(root, key === "refused" && err.code === "code_refused" ? "expired" : key, "error");
      } finally {
        busy(button, false);
      }
    });
  }

  const login = document.querySelector('[data-page="login"]');
  if (login) setupLogin(login);
  const register = document.querySelector('[data-page="register"]');
  if (register) {
    setupRegister(register, { start: "/api/passkeys/enrol/start", finish: "/api/passkeys/enrol/finish" },
      { grant: register.dataset.grant });
  }
  const add = document.querySelector('[data-page="add"]');
  if (add) setupRegister(add, { start: "/api/passkeys/add/start", finish: "/api/passkeys/add/finish" }, {});
})();
