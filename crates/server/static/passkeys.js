// sqin passkey pages: the only script, served from the same origin (the CSP
// allows no inline script). It talks to the JSON endpoints documented in
// docs/passkeys.md with the standard WebAuthn JSON shapes.
"use strict";
(function () {
  // The helpers come from webauthn.js, loaded after this script (both
  // deferred, so both have run by DOMContentLoaded).
  let creationOptions, requestOptions, credentialJSON, post, say, messageFor, supported, busy;

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
        // A state others can wait on (assistive tools, tests): the autofill
        // request is pending.
        root.dataset.conditional = "pending";
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

  document.addEventListener("DOMContentLoaded", () => {
    ({ creationOptions, requestOptions, credentialJSON, post, say, messageFor, supported, busy } = window.SqinWebAuthn);
    const login = document.querySelector('[data-page="login"]');
    if (login) setupLogin(login);
    const register = document.querySelector('[data-page="register"]');
    if (register) {
      setupRegister(register, { start: "/api/passkeys/enrol/start", finish: "/api/passkeys/enrol/finish" },
        { grant: register.dataset.grant });
    }
    const add = document.querySelector('[data-page="add"]');
    if (add) setupRegister(add, { start: "/api/passkeys/add/start", finish: "/api/passkeys/add/finish" }, {});
  });
})();
