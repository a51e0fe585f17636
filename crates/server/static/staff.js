// The staff console's script: enrolling a staff passkey with an invitation
// code, signing in with it (no name typed), and confirming with it before a
// sensitive action. Helpers from webauthn.js (loaded after this one; both
// deferred, so both have run by DOMContentLoaded).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const { creationOptions, requestOptions, credentialJSON, post, say, messageFor, supported, busy } = window.SqinWebAuthn;

  const login = document.querySelector('[data-page="staff-login"]');
  if (login && supported(login)) {
    const button = document.getElementById("staff-login-button");
    button.addEventListener("click", async () => {
      busy(button, true);
      try {
        const started = await post("/api/staff/login/start", {});
        const cred = await navigator.credentials.get({ publicKey: requestOptions(started.publicKey) });
        say(login, "working");
        const done = await post("/api/staff/login/finish", { ceremony: started.ceremony, credential: credentialJSON(cred) });
        window.location.assign(done.redirect);
      } catch (err) {
        say(login, messageFor(err), "error");
      } finally {
        busy(button, false);
      }
    });
  }

  const enrol = document.querySelector('[data-page="staff-enrol"]');
  if (enrol && supported(enrol)) {
    enrol.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = enrol.querySelector("button[type=submit]");
      busy(button, true);
      try {
        const code = document.getElementById("code").value;
        const started = await post("/api/staff/enrol/start", { code: code });
        const cred = await navigator.credentials.create({ publicKey: creationOptions(started.publicKey) });
        say(enrol, "working");
        const done = await post("/api/staff/enrol/finish", { ceremony: started.ceremony, credential: credentialJSON(cred) });
        window.location.assign(done.redirect);
      } catch (err) {
        say(enrol, messageFor(err), "error");
      } finally {
        busy(button, false);
      }
    });
  }

  const reauth = document.querySelector('[data-page="reauth"]');
  const reauthButton = document.getElementById("reauth-button");
  if (reauth && reauthButton && supported(reauth)) {
    reauthButton.addEventListener("click", async () => {
      busy(reauthButton, true);
      try {
        const started = await post("/api/staff/reauth/start", {});
        const cred = await navigator.credentials.get({ publicKey: requestOptions(started.publicKey) });
        await post("/api/staff/reauth/finish", { ceremony: started.ceremony, credential: credentialJSON(cred) });
        say(reauth, "done");
        // The page again, fetched anew (GET), or the form's page when this
        // one answered a form (data-return): never a reload, which would
        // send the form again (a second recorded look-up, a second
        // decision).
        window.location.assign(reauth.dataset.return || window.location.pathname + window.location.search);
      } catch (err) {
        say(reauth, messageFor(err), "error");
      } finally {
        busy(reauthButton, false);
      }
    });
  }
});
