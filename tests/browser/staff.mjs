// The staff plane in headless Chromium, one browser context (and one CDP
// virtual authenticator: CTAP2, internal transport, resident keys, user
// verification) per person: a privacy officer and an administrator, both
// invited by the operator's CLI, enrol their staff passkeys; the privacy
// officer invites a support agent; the administrator, whose passkey
// confirmation has gone stale, is refused the approval until he confirms
// with the console's button, then approves the grant on the requests page;
// the agent enrols, opens the citizen's file by register id for a purpose
// and a ticket number, and confirms her passkey from the file's page without
// sending the look-up again; the citizen, enrolled on the citizens' site,
// sees that one look-up in "Who looked at my file".
// Driven by tests/tests/e2e/staff_browser.rs, which starts the server and
// passes:
//   SQIN_BASE        the citizens' site, http://localhost:PORT
//   SQIN_STAFF       the staff console, http://localhost:PORT (never
//                    127.0.0.1: an IP address is not a valid WebAuthn RP ID)
//   SQIN_PO_CODE, SQIN_PO_BADGE         the privacy officer's invitation
//   SQIN_ADMIN_CODE, SQIN_ADMIN_BADGE   the administrator's invitation
//   SQIN_CODE, SQIN_BIRTHDATE, SQIN_REGISTER_ID   the citizen's letter
//   SQIN_UNTIL       the end date of the support grant (YYYY-MM-DD)
//   SQIN_SHOTS       a directory for a screenshot of each page
//   CHROMIUM         the browser binary (default /usr/bin/chromium)
// The server's clock is moved by the driver: the script prints
// `ADVANCE <seconds>` and waits for `advanced <seconds>` on its stdin.
// Labels and button names come from the pages' own messages
// (crates/server/templates/i18n), so the selectors are the accessible names
// people see. Each page is checked with axe-core (WCAG 2.1 AA, ./a11y.mjs),
// in both languages where it can be shown again. Prints one line per step;
// exits non-zero with the reason on failure.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { checkA11y, checkOtherLanguage } from "./a11y.mjs";

const env = (name) => process.env[name];
const base = env("SQIN_BASE");
const staff = env("SQIN_STAFF");
const shots = env("SQIN_SHOTS");
const required = [
  "SQIN_BASE", "SQIN_STAFF", "SQIN_PO_CODE", "SQIN_PO_BADGE", "SQIN_ADMIN_CODE", "SQIN_ADMIN_BADGE",
  "SQIN_CODE", "SQIN_BIRTHDATE", "SQIN_REGISTER_ID", "SQIN_UNTIL", "SQIN_SHOTS",
];
const missing = required.filter((n) => !env(n));
if (missing.length) {
  console.error(`missing ${missing.join(", ")}`);
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const REFERENCE = "T-2026-0101";
const PURPOSE = "account-service";
const AGENT = "Sam Support";
const STEP_MS = 15000;
// A badge, as sqin_staff::badge makes them.
const BADGE = /Agent [A-Z0-9]{4}/;

// The pages' messages, in both languages.
const i18n = {};
for (const lang of ["en", "fr"]) {
  const file = new URL(`../../crates/server/templates/i18n/${lang}.json`, import.meta.url);
  i18n[lang] = JSON.parse(readFileSync(file, "utf8"));
}
function t(lang, key, vars = {}) {
  const text = i18n[lang][key];
  if (text === undefined) throw new Error(`no message ${key} in ${lang}.json`);
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// The words a page uses for an id of the PIA (a role, a purpose), or the
// id itself where the messages have none.
function label(p, prefix, id) {
  return i18n[p.lang][`${prefix}.${id}`] ?? id;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The driver moves the server's clock (a sensitive action's confirmation
// goes stale after five minutes): a line out, its answer in.
const driver = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function advanceServerClock(secs) {
  console.log(`ADVANCE ${secs}`);
  const { value, done } = await within(driver.next(), STEP_MS, "the driver's answer to ADVANCE");
  check(!done && value.trim() === `advanced ${secs}`, `the driver answered ${JSON.stringify(value)}`);
}

// Playwright gives every launch a fresh temporary profile (--user-data-dir)
// and adds --no-sandbox when chromiumSandbox is false; the rest keeps
// Chromium from reaching the network on its own.
const browser = await chromium.launch({
  executablePath: env("CHROMIUM") || "/usr/bin/chromium",
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

const people = [];
// One person: a browser context of their own (cookies, storage) with its
// page, its virtual authenticator, and what the console reports.
async function person(who, locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1000, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  const p = { who, page, lang: locale.slice(0, 2), errors: [], expected: null, shotNo: 0 };
  // A CSP violation is reported to the page as an event too (some never
  // reach the console, e.g. a blocked style attribute in report-only).
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile || ""}:${e.lineNumber}`);
    });
  });
  // Only a status the step expects may show in the console (a refusal's
  // page); any other error (CSP, script, missing asset) fails the test.
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (p.expected && p.expected.test(m.text())) return;
    p.errors.push(`${who} at ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => p.errors.push(`${who} at ${page.url()}: ${e}`));
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
  p.credentials = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  p.t = (key, vars) => t(p.lang, key, vars);
  p.shot = async (name) => {
    p.shotNo += 1;
    await page.screenshot({ path: join(shots, `staff-${who}-${p.shotNo}-${name}.png`), fullPage: true });
  };
  p.main = async () => (await page.locator("main").innerText()).replace(/\s+/g, " ");
  p.nav = () => page.getByRole("navigation", { name: p.t("staff.nav") });
  // The page as it is shown, checked with axe-core (WCAG 2.1 AA); `other`
  // checks it in the other language too (a GET page only).
  p.a11y = async (name, { other = false } = {}) => {
    await checkA11y(page, `${who}: ${name} (${p.lang})`);
    if (other) await checkOtherLanguage(page, `${who}: ${name}`, p.lang, p.lang === "fr" ? "en" : "fr");
  };
  people.push(p);
  return p;
}

async function expectLang(p) {
  const lang = await p.page.getAttribute("html", "lang");
  check(lang === p.lang, `${p.who}: the page is in ${lang}, not ${p.lang}`);
}

// A member of staff enrols a passkey with their invitation code on the
// console's enrolment page, reached from the sign-in page's link, and is
// signed in.
async function enrolStaff(p, code, name) {
  const { page } = p;
  await page.goto(`${staff}/login`);
  await expectLang(p);
  await p.shot("login");
  await p.a11y("staff sign-in");
  await page.getByRole("link", { name: p.t("staff.enrol_link") }).click();
  await page.waitForURL(`${staff}/enrol`);
  await page.getByLabel(p.t("staff.invitation_code"), { exact: true }).fill(code);
  await p.shot("enrol");
  await p.a11y("staff enrolment");
  await page.getByRole("button", { name: p.t("staff.enrol_button") }).click();
  await page.waitForURL(`${staff}/`);
  await page.getByRole("heading", { name: p.t("staff.console") }).waitFor();
  const credentials = await p.credentials();
  check(credentials.length === 1, `${p.who}: one credential on the authenticator, got ${credentials.length}`);
  check(credentials[0].isResidentCredential, `${p.who}: the staff passkey is discoverable`);
  check(credentials[0].rpId === new URL(staff).hostname, `${p.who}: the RP ID is ${credentials[0].rpId}`);
  const nav = (await p.nav().innerText()).replace(/\s+/g, " ");
  const badge = nav.match(new RegExp(`(${BADGE.source}) \\(${name}\\)`));
  check(badge, `${p.who}: the console names the member: ${nav}`);
  await p.shot("home");
  await p.a11y("console home");
  return badge[1];
}

let failed = false;
let current = null;
try {
  const officer = await person("officer", "fr-CA");
  const admin = await person("admin", "en-CA");
  const agent = await person("agent", "en-CA");
  const citizen = await person("citizen", "fr-CA");

  // 1. The two members the operator invited with `sqin staff invite`.
  current = officer.page;
  const officerBadge = await enrolStaff(officer, env("SQIN_PO_CODE"), "Paule Officer");
  check(officerBadge === env("SQIN_PO_BADGE"), `the officer's badge is ${officerBadge}`);
  check((await officer.nav().innerText()).includes("privacy-officer"), "the officer holds her role");
  check(await officer.page.getByText(officer.t("staff.fresh")).isVisible(), "a new session counts as confirmed");
  console.log(`ok: the privacy officer enrolled and is signed in as ${officerBadge}`);
  current = admin.page;
  const adminBadge = await enrolStaff(admin, env("SQIN_ADMIN_CODE"), "Alex Admin");
  check(adminBadge === env("SQIN_ADMIN_BADGE"), `the administrator's badge is ${adminBadge}`);
  console.log(`ok: the administrator enrolled and is signed in as ${adminBadge}`);

  // 2. The citizen has an account: enrolled with the mailed code.
  current = citizen.page;
  {
    const { page } = citizen;
    await page.goto(`${base}/enrol`);
    await expectLang(citizen);
    await page.getByLabel(citizen.t("enrol.code"), { exact: true }).fill(env("SQIN_CODE"));
    await page.getByLabel(citizen.t("enrol.birthdate"), { exact: true }).fill(env("SQIN_BIRTHDATE"));
    await page.getByRole("button", { name: citizen.t("enrol.submit") }).click();
    await page.waitForURL(/\/enrol\/passkey\?grant=/);
    await page.getByLabel(citizen.t("register.name"), { exact: true }).fill("Mon téléphone");
    await page.getByRole("button", { name: citizen.t("register.button") }).click();
    await page.waitForURL(/\/account\?notice=welcome/);
    check((await citizen.credentials()).length === 1, "the citizen's passkey is on her authenticator");
    await citizen.shot("account");
    await citizen.a11y("account");
    console.log("ok: the citizen enrolled on the citizens' site");
  }

  // 3. The officer invites a support agent from the directory; the page
  // shows the one-time code.
  current = officer.page;
  let agentCode;
  let agentBadge;
  {
    const { page } = officer;
    await officer.nav().getByRole("link", { name: officer.t("staff.directory") }).click();
    await page.waitForURL(`${staff}/staff`);
    const form = page.locator("form").filter({ has: page.getByRole("button", { name: officer.t("staff.invite_button") }) });
    await form.getByLabel(officer.t("staff.name"), { exact: true }).fill(AGENT);
    await form.getByLabel(officer.t("staff.role"), { exact: true }).selectOption("support");
    await form.getByLabel(officer.t("staff.reason"), { exact: true }).fill("Embauché pour la ligne téléphonique");
    await form.getByLabel(officer.t("staff.grant_until"), { exact: true }).fill(env("SQIN_UNTIL"));
    await officer.shot("invite");
    await officer.a11y("directory and invitation form", { other: true });
    await form.getByRole("button", { name: officer.t("staff.invite_button") }).click();
    await page.getByRole("heading", { name: officer.t("staff.invited_title") }).waitFor();
    agentCode = (await page.locator("#invitation-code").innerText()).trim();
    check(/^[A-Z2-9]{5}(-[A-Z2-9]{5}){3}$/.test(agentCode), `an invitation code: ${agentCode}`);
    const body = (await page.getByRole("status").innerText()).replace(/\s+/g, " ");
    const named = body.match(BADGE);
    check(body.includes(AGENT) && named, `the invitation names the person and the badge: ${body}`);
    agentBadge = named[0];
    check(body.includes(`${staff}/enrol`), `the invitation says where to enrol: ${body}`);
    await officer.shot("invited");
    await officer.a11y("invitation made");
    console.log(`ok: the officer invited ${AGENT} (${agentBadge}) for support; the code is on the page`);
  }

  // 4. The agent enrols with it, and holds no role yet.
  current = agent.page;
  {
    const enrolled = await enrolStaff(agent, agentCode, AGENT);
    check(enrolled === agentBadge, `the agent's badge is ${enrolled}, the invitation said ${agentBadge}`);
    await agent.a11y("console home without a role", { other: true });
    check(await agent.page.getByText(agent.t("staff.no_role_body")).isVisible(), "no role before the approval");
    check(await agent.nav().getByRole("link", { name: agent.t("staff.files") }).count() === 0, "no look-up before the approval");
    console.log("ok: the agent enrolled; no role until a second person approves");
  }

  // 5. The officer cannot approve her own request.
  current = officer.page;
  {
    const { page } = officer;
    await officer.nav().getByRole("link", { name: officer.t("staff.requests") }).click();
    await page.waitForURL(`${staff}/requests`);
    const row = page.getByRole("row").filter({ hasText: agentBadge });
    await row.waitFor();
    check((await row.innerText()).includes(officer.t("staff.awaiting")), "the officer's request awaits a second person");
    check(await row.getByRole("button").count() === 0, "no decision for the requester");
    await officer.shot("requests");
    await officer.a11y("requests awaiting a second person", { other: true });
    console.log("ok: the officer sees her request awaiting a second person");
  }

  // 6. Six minutes later the administrator's confirmation is stale: the
  // approval is refused until the passkey confirms it again, with the
  // console's button.
  await advanceServerClock(6 * 60);
  current = admin.page;
  {
    const { page } = admin;
    await page.reload();
    await admin.nav().getByRole("link", { name: admin.t("staff.requests") }).click();
    await page.waitForURL(`${staff}/requests`);
    const row = page.getByRole("row").filter({ hasText: agentBadge });
    const text = (await row.innerText()).replace(/\s+/g, " ");
    check(text.includes(admin.t("staff.kind.grant")) && text.includes("support") && text.includes(officerBadge),
      `the request names the grant, the role and the requester: ${text}`);
    const reauth = admin.nav().getByRole("button", { name: admin.t("staff.reauth") });
    await reauth.waitFor();
    await admin.shot("requests-stale");
    await admin.a11y("requests, confirmation stale");
    admin.expected = /Failed to load resource: the server responded with a status of 401/;
    await row.getByRole("button", { name: admin.t("staff.approve") }).click();
    await page.waitForURL(`${staff}/requests/decide`);
    await page.getByRole("heading", { name: admin.t("error.reauth.title") }).waitFor();
    await admin.shot("approve-stale");
    await admin.a11y("approval refused until the passkey confirms");
    admin.expected = null;
    console.log("ok: a stale confirmation: the approval asks for the passkey first");

    check((await admin.main()).includes(admin.t("staff.reauth_needed")), "the page says nothing was done");

    // The refusal page offers the confirmation; once confirmed, the
    // requests page again (not the refused form sent anew).
    await admin.nav().getByRole("button", { name: admin.t("staff.reauth") }).click();
    await page.waitForURL(`${staff}/requests`);
    await page.getByText(admin.t("staff.fresh")).waitFor();
    await admin.shot("requests-confirmed");
    await admin.a11y("requests, confirmed");
    await page.getByRole("row").filter({ hasText: agentBadge }).getByRole("button", { name: admin.t("staff.approve") }).click();
    await page.waitForURL(`${staff}/requests?decided=1`);
    check(await page.getByRole("row").filter({ hasText: agentBadge }).count() === 0, "the request is decided");
    await admin.shot("approved");
    await admin.a11y("requests, decided");
    console.log("ok: the administrator confirmed with the passkey and approved the grant");
  }

  // 7. The agent opens the citizen's file by register id, for a purpose of
  // the role and the ticket number, and checks the stated date of birth.
  current = agent.page;
  {
    const { page } = agent;
    await page.reload();
    check((await agent.nav().innerText()).includes("support"), "the agent holds the support role");
    await agent.nav().getByRole("link", { name: agent.t("staff.files") }).click();
    await page.waitForURL(`${staff}/files`);
    await page.getByLabel(agent.t("staff.register_id"), { exact: true }).fill(env("SQIN_REGISTER_ID"));
    await page.getByLabel(agent.t("staff.purpose"), { exact: true }).selectOption(PURPOSE);
    await page.getByLabel(agent.t("staff.reference"), { exact: true }).fill(REFERENCE);
    await page.getByLabel(agent.t("element.citizen.birthdate"), { exact: true }).fill(env("SQIN_BIRTHDATE"));
    await agent.shot("lookup");
    await agent.a11y("file look-up form", { other: true });
    await page.getByRole("button", { name: agent.t("staff.open_file") }).click();
    await page.getByRole("heading", { name: agent.t("staff.file_title") }).waitFor();
    const main = await agent.main();
    check(main.includes("Camille") && main.includes("Exemple"), `the file shows the citizen's name: ${main}`);
    check(!main.includes(env("SQIN_BIRTHDATE")), "the date of birth is checked, never shown, to support");
    const birthdate = page.getByRole("row", { name: agent.t("element.citizen.birthdate") });
    check((await birthdate.innerText()).includes(agent.t("staff.match")), "the stated date of birth matches");
    const recorded = agent.t("staff.file_recorded", { purpose: agent.t(`purpose.${PURPOSE}`), reference: REFERENCE });
    check(main.includes(recorded), `the page says the look-up is recorded: ${main}`);
    await agent.shot("file");
    await agent.a11y("citizen's file");
    console.log("ok: the agent opened the file with a purpose and a reference, and sees the citizen's name");

    // Her confirmation is stale too (she enrolled before the clock moved):
    // confirming from the file page leads to the look-up form, and never
    // sends the look-up again (the driver counts the recorded look-ups).
    const resent = [];
    page.on("request", (r) => { if (r.isNavigationRequest() && r.method() !== "GET") resent.push(`${r.method()} ${r.url()}`); });
    await agent.nav().getByRole("button", { name: agent.t("staff.reauth") }).click();
    await page.waitForURL(`${staff}/files`);
    await page.getByText(agent.t("staff.fresh")).waitFor();
    await page.getByRole("button", { name: agent.t("staff.open_file") }).waitFor();
    check(resent.length === 0, `the confirmation sent a form again: ${resent.join(", ")}`);
    await agent.shot("confirmed");
    await agent.a11y("file look-up form, confirmed");
    console.log("ok: a confirmation from the file page leads to the form, without a second look-up");
  }

  // 8. The citizen sees who looked at her file.
  current = citizen.page;
  {
    const { page } = citizen;
    await page.goto(`${base}/account`);
    await page.getByRole("link", { name: citizen.t("ledger.staff_link") }).click();
    await page.waitForURL(`${base}/account/history/staff`);
    await page.getByRole("heading", { name: citizen.t("ledger.staff_title") }).waitFor();
    const rows = page.locator("main table tbody tr");
    check(await rows.count() === 1, `one access listed, got ${await rows.count()}`);
    const row = (await rows.first().innerText()).replace(/\s+/g, " ");
    check(row.includes(agentBadge), `the access names the agent's badge: ${row}`);
    const role = label(citizen, "role", "support");
    check(row.includes(role), `the access names the role (${role}): ${row}`);
    const purpose = label(citizen, "purpose", PURPOSE);
    check(row.includes(purpose), `the access names the purpose (${purpose}): ${row}`);
    check(row.includes(REFERENCE), `the access names the reference: ${row}`);
    check(!row.includes("Camille"), "the history lists what was seen, never its value");
    await citizen.shot("history-staff");
    await citizen.a11y("who looked at my file", { other: true });
    console.log(`ok: the citizen sees the look-up by ${agentBadge} (support) for ${PURPOSE}`);
  }

  // 9. The rest of the console the officer and the administrator can
  // reach from their menus (pages that only list; none opens a file),
  // checked in both languages.
  for (const p of [officer, admin]) {
    current = p.page;
    const seen = new Set(["/", "/files", "/requests", "/staff"]);
    const hrefs = await p.nav().getByRole("link").evaluateAll((links) => links.map((a) => a.getAttribute("href")));
    for (const href of hrefs.filter((h) => !seen.has(h))) {
      await p.page.goto(`${staff}${href}`);
      await p.shot(`page${href.replace(/\W+/g, "-")}`);
      await p.a11y(`console page ${href}`, { other: true });
    }
  }

  const errors = people.flatMap((p) => p.errors);
  check(errors.length === 0, `no console errors (CSP, script): ${errors.join(" | ")}`);
  console.log("PASS staff");
} catch (e) {
  failed = true;
  console.error(`FAIL staff: ${e && e.stack ? e.stack : e}`);
  for (const p of people) {
    if (p.errors.length) console.error(`console errors: ${p.errors.join(" | ")}`);
  }
  if (current) {
    try {
      console.error(`at ${current.url()}:\n${(await current.textContent("body")).replace(/\s+/g, " ").slice(0, 1500)}`);
      await current.screenshot({ path: join(shots, "staff-failure.png"), fullPage: true });
    } catch (_) { /* the page is gone */ }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
