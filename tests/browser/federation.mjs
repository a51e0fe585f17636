// Federation in a real browser: a citizen enrols a passkey at sqin, signs in
// to the Family portal (consent, then only its allowed claims), opens the
// revenue office without signing in again (its own consent, the name alone,
// another sub), signs out of the Family portal and is signed out of both.
// Headless Chromium with a CDP virtual authenticator. Driven by
// tests/tests/federation_browser.rs, which starts sqin and both portals:
//   SQIN_BASE        http://localhost:PORT (never 127.0.0.1: WebAuthn RP ID)
//   FAMILY_BASE      http://localhost:PORT      (sector "localhost")
//   REVENUE_BASE     http://127.0.0.1:PORT      (sector "127.0.0.1")
//   SQIN_CODE, SQIN_BIRTHDATE, SQIN_SHOTS, CHROMIUM
// sqin's pages are checked with axe-core (WCAG 2.1 AA, ./a11y.mjs).
// Prints one line per step and the two subs; exits non-zero on failure.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { checkA11y, checkOtherLanguage } from "./a11y.mjs";

const { SQIN_BASE: base, FAMILY_BASE: family, REVENUE_BASE: revenue } = process.env;
const { SQIN_CODE: code, SQIN_BIRTHDATE: birthdate, SQIN_SHOTS: shots } = process.env;
if (!base || !family || !revenue || !code || !birthdate || !shots) {
  console.error("missing SQIN_BASE, FAMILY_BASE, REVENUE_BASE, SQIN_CODE, SQIN_BIRTHDATE or SQIN_SHOTS");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
function check(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  chromiumSandbox: false,
  args: [
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
  ],
});
let failed = false;
let current = null;
try {
  const context = await browser.newContext({ locale: "fr-CA", viewport: { width: 900, height: 1000 } });
  const page = await context.newPage();
  current = page;
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const shot = async (name) => page.screenshot({ path: join(shots, name), fullPage: true });
  const text = async (sel) => ((await page.textContent(sel)) || "").trim();

  // 1. Enrol a passkey at sqin with the mailed code.
  await page.goto(`${base}/enrol`);
  await page.fill("#code", code);
  await page.fill("#birthdate", birthdate);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/enrol\/passkey\?grant=/);
  await page.fill("#name", "Téléphone de test");
  await page.click("#register button[type=submit]");
  await page.waitForURL(/\/account\?notice=welcome/);
  console.log("ok: enrolled a passkey");

  // 2. The Family portal: sign in (sqin's session exists: consent only).
  await page.goto(`${family}/`);
  await shot("portal-home.png");
  await page.click("#login");
  await page.waitForURL((u) => u.href.startsWith(`${base}/authorize`));
  check(!page.url().includes("/login"), "no login page: the citizen has a session");
  await shot("portal-consent.png");
  await checkA11y(page, "consent for the Family portal (fr)");
  // The same pending request in English, in a second tab of the session
  // (the resume address shows its consent page again; the tab's `lang`
  // choice is put back to French before the decision).
  {
    const request = await page.getAttribute("input[name=request]", "value");
    const tab = await context.newPage();
    try {
      await tab.goto(`${base}/authorize/resume?request=${encodeURIComponent(request)}&lang=en`);
      check((await tab.getAttribute("html", "lang")) === "en", "the consent page in English");
      await checkA11y(tab, "consent for the Family portal (en)");
      await tab.goto(`${base}/authorize/resume?request=${encodeURIComponent(request)}&lang=fr`);
    } finally {
      await tab.close();
    }
  }
  await page.click("button[name=decision][value=allow]");
  await page.waitForURL(`${family}/`);
  check((await text("#claim-name")).length > 0, "the portal shows the name");
  check((await text("#claim-birthdate")) === birthdate, "the portal shows the birthdate");
  // (This register entry has no address; tests/tests/federation.rs checks it.)
  check((await page.$("#claim-email")) === null, "no email: not in the Family purpose");
  const familySub = await text("#sub");
  await page.fill("#child_name", "Léo Exemple");
  await page.fill("#child_birthdate", "2021-05-04");
  await page.click("#apply button[type=submit]");
  await page.waitForURL(/notice=submitted/);
  check((await text("#applications")).includes("Léo Exemple"), "the application is listed");
  await shot("portal-signed-in.png");
  console.log("ok: Family portal: its claims only; an application filed");

  // 3. The revenue office: no new login, its own consent, the name alone.
  await page.goto(`${revenue}/`);
  await page.click("#login");
  await page.waitForURL((u) => u.href.startsWith(`${base}/authorize`));
  check(!page.url().includes("/login"), "single sign-on: no login page");
  await checkA11y(page, "consent for the revenue office (fr)");
  await page.click("button[name=decision][value=allow]");
  await page.waitForURL(`${revenue}/`);
  check((await text("#claim-name")).length > 0, "the revenue office shows the name");
  for (const c of ["birthdate", "address", "email"]) {
    check((await page.$(`#claim-${c}`)) === null, `the revenue office has no ${c}`);
  }
  const revenueSub = await text("#sub");
  check(revenueSub.length === 43 && familySub.length === 43, "pairwise subs");
  check(revenueSub !== familySub, "a different sub in another sector");
  await shot("revenue-signed-in.png");
  await page.goto(`${revenue}/?lang=en`);
  await shot("revenue-signed-in-en.png");
  console.log(`ok: revenue office: the name only; SUBS ${familySub} ${revenueSub}`);

  // The citizen's history at sqin: both services, their consents and what
  // each received, in both languages.
  await page.goto(`${base}/account/history`);
  check((await page.locator("main section.recipient").count()) === 2, "the history lists both services");
  await shot("history.png");
  await checkA11y(page, "history of what each service received (fr)");
  await checkOtherLanguage(page, "history of what each service received", "fr", "en");

  // 4. Sign out of the Family portal: sqin ends its session, and the revenue
  // office hears it through back-channel logout.
  await page.goto(`${family}/`);
  await page.click("#logout");
  await page.waitForURL((u) => u.href.startsWith(`${family}/logged-out`));
  await shot("portal-logged-out.png");
  let signedOut = false;
  for (let i = 0; i < 50 && !signedOut; i++) {
    await page.goto(`${revenue}/`);
    signedOut = (await page.$("#login")) !== null;
    if (!signedOut) await page.waitForTimeout(100);
  }
  check(signedOut, "the revenue office's session ended (back-channel logout)");
  await page.goto(`${family}/`);
  check((await page.$("#login")) !== null, "the Family portal is signed out");
  console.log("ok: signed out of one, signed out of both");

  check(consoleErrors.length === 0, `no console errors: ${consoleErrors.join(" | ")}`);
  console.log("PASS federation");
} catch (e) {
  failed = true;
  console.error(`FAIL federation: ${e && e.stack ? e.stack : e}`);
  if (current) {
    try {
      console.error(`at ${current.url()}:\n${(await current.textContent("body")).replace(/\s+/g, " ").slice(0, 1500)}`);
      await current.screenshot({ path: join(shots, "federation-failure.png"), fullPage: true });
    } catch (_) { /* the page is gone */ }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
