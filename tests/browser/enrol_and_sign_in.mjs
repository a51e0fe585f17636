// A citizen enrols with a mailed code, registers a passkey and signs in, in
// headless Chromium with a CDP virtual authenticator (CTAP2, internal
// transport, resident keys, user verification). Driven by
// tests/tests/passkeys_browser.rs, which starts the server and passes:
//   SQIN_BASE        http://localhost:PORT (never 127.0.0.1: an IP address is
//                    not a valid WebAuthn RP ID)
//   SQIN_CODE, SQIN_BIRTHDATE, SQIN_REGISTER_ID
//   SQIN_SHOTS       a directory for a screenshot of each page
//   CHROMIUM         the browser binary (default /usr/bin/chromium)
// Each page is checked with axe-core (WCAG 2.1 AA, ./a11y.mjs), in French and
// in English. Prints one line per step; exits non-zero with the reason on
// failure.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { checkA11y, checkOtherLanguage } from "./a11y.mjs";

const base = process.env.SQIN_BASE;
const code = process.env.SQIN_CODE;
const birthdate = process.env.SQIN_BIRTHDATE;
const registerId = process.env.SQIN_REGISTER_ID;
const shots = process.env.SQIN_SHOTS;
if (!base || !code || !birthdate || !registerId || !shots) {
  console.error("missing SQIN_BASE, SQIN_CODE, SQIN_BIRTHDATE, SQIN_REGISTER_ID or SQIN_SHOTS");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Playwright gives every launch a fresh temporary profile (--user-data-dir)
// and adds --no-sandbox when chromiumSandbox is false; the rest keeps
// Chromium from reaching the network on its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  chromiumSandbox: false,
  args: [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
  ],
});
let failed = false;
let current = null;
try {
  const context = await browser.newContext({
    locale: "fr-CA",
    viewport: { width: 900, height: 1000 },
  });
  const page = await context.newPage();
  current = page;
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  // The enrolment error (400) and the expired form (403) are expected
  // statuses; any other console error (CSP, script, missing asset) fails.
  const expected = /Failed to load resource: the server responded with a status of 40[03]/;
  page.on("console", (m) => { if (m.type() === "error" && !expected.test(m.text())) consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const shot = async (name) => page.screenshot({ path: join(shots, name), fullPage: true });

  // 1. The enrolment page: a wrong birthdate first (one generic error).
  await page.goto(`${base}/enrol`);
  check((await page.getAttribute("html", "lang")) === "fr", "the page is in French");
  await shot("enrol.png");
  await checkA11y(page, "enrolment (fr)");
  await checkOtherLanguage(page, "enrolment", "fr", "en");
  await page.fill("#code", code);
  await page.fill("#birthdate", "1999-12-31");
  await page.click("button[type=submit]");
  await page.waitForSelector("#form-error");
  await shot("enrol-error.png");
  await checkA11y(page, "enrolment with its error (fr)");
  console.log("ok: a wrong birthdate gets the generic error");

  // 2. The right code and birthdate: the passkey registration page.
  await page.fill("#code", code);
  await page.fill("#birthdate", birthdate);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/enrol\/passkey\?grant=/);
  await shot("register-passkey.png");
  await checkA11y(page, "passkey registration (fr)");
  await checkOtherLanguage(page, "passkey registration", "fr", "en");
  await page.fill("#name", "Téléphone de test");
  await page.click("#register button[type=submit]");
  await page.waitForURL(/\/account\?notice=welcome/);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check(credentials.length === 1, `one credential on the authenticator, got ${credentials.length}`);
  check(credentials[0].isResidentCredential, "the passkey is discoverable");
  check((await page.textContent("main")).includes("Téléphone de test"), "the account lists the passkey");
  await checkA11y(page, "account with the welcome notice (fr)");
  console.log("ok: enrolled; the passkey is discoverable and listed");

  const presence = (on) => cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: on });
  const signOut = async () => {
    await page.click("form[action='/account/signout'] button");
    await page.waitForURL(/\/login$/);
  };

  // 3. Sign out: the login page offers the passkey in the identifier
  // field's autofill (conditional UI), and the virtual authenticator, which
  // simulates the citizen's touch, answers at once.
  await signOut();
  await page.waitForURL(/\/account$/);
  console.log("ok: signed in through conditional UI (autofill)");

  // 4. The button (a modal request): presence is withheld while the page
  // loads, so the conditional request stays pending and the click runs.
  await presence(false);
  await signOut();
  await page.waitForSelector("#passkey-login");
  await page.waitForSelector("[data-conditional=pending]");
  await shot("login.png");
  await checkA11y(page, "sign-in (fr)");
  await checkOtherLanguage(page, "sign-in", "fr", "en");
  await presence(true);
  await page.click("#passkey-login");
  await page.waitForURL(/\/account$/);
  console.log("ok: signed in with the button");

  // 5. With the register identifier typed (the passkey on another device).
  await presence(false);
  await signOut();
  await page.waitForSelector("[data-conditional=pending]");
  await page.fill("#register_id", registerId);
  await presence(true);
  await page.click("#login-id button[type=submit]");
  await page.waitForURL(/\/account$/);
  const signins = await page.$$eval("section[aria-labelledby=signins-title] tbody tr", (rows) => rows.length);
  check(signins === 3, `three recent sign-ins listed, got ${signins}`);
  await shot("account.png");
  await checkA11y(page, "account with its sign-ins (fr)");
  console.log("ok: signed in with the register identifier; the account lists the sign-ins");

  // The account's other pages (they only show, and offer forms), checked in
  // both languages; then back to the account.
  for (const path of ["/account/history", "/account/history/staff", "/account/complaints", "/account/close"]) {
    await page.goto(`${base}${path}`);
    await checkA11y(page, `${path} (fr)`);
    await checkOtherLanguage(page, path, "fr", "en");
  }
  await page.goto(`${base}/account`);

  // 6. The same page in English.
  await page.click("a.lang");
  await page.waitForURL(/lang=en/);
  check((await page.getAttribute("html", "lang")) === "en", "the switch link gives English");
  await shot("account-en.png");
  await checkA11y(page, "account (en)");

  // The privacy notice every page's footer links to, in both languages.
  await page.click("footer.site a[href='/privacy']");
  await page.waitForURL(/\/privacy$/);
  await checkA11y(page, "privacy notice (en)");
  await checkOtherLanguage(page, "privacy notice", "en", "fr");

  // 7. The error page people see: a form whose browser cookie is gone.
  await page.goto(`${base}/enrol`);
  await context.clearCookies();
  await page.fill("#code", code);
  await page.fill("#birthdate", birthdate);
  await page.click("button[type=submit]");
  await page.waitForSelector("text=Le formulaire a expiré");
  await shot("error.png");
  await checkA11y(page, "the expired form's error page (fr)");
  console.log("ok: a form without its browser cookie gets the error page");

  check(consoleErrors.length === 0, `no console errors (CSP, script): ${consoleErrors.join(" | ")}`);
  console.log("PASS enrol_and_sign_in");
} catch (e) {
  failed = true;
  console.error(`FAIL enrol_and_sign_in: ${e && e.stack ? e.stack : e}`);
  if (current) {
    try {
      console.error(`at ${current.url()}:\n${(await current.textContent("body")).replace(/\s+/g, " ").slice(0, 1500)}`);
      await current.screenshot({ path: join(shots, "failure.png"), fullPage: true });
    } catch (_) { /* the page is gone */ }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
