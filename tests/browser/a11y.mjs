// An automated accessibility check for the browser tests: axe-core's WCAG
// 2.1 A and AA rules on the page as it is shown, in the page's language.
//
//   await checkA11y(page, "account (fr)");
//   await checkOtherLanguage(page, "account", "fr", "en");
//
// axe-core is put in the page with the DevTools protocol (playwright's
// `page.evaluate`, i.e. Runtime.evaluate), not with a <script> element: the
// pages' Content-Security-Policy (`script-src 'self'`) rightly blocks inline
// scripts, DevTools evaluation is not subject to it, and so the tests' own
// checks that the pages raise no CSP violation stay as they are (no
// `bypassCSP` context).
//
// No rule is disabled and no node is excluded: every violation fails the
// test with its rule, impact, the elements it found and how to fix it.
// axe-core comes from tests/browser/node_modules (`npm ci` there).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

let axeSource = null;
function source() {
  if (axeSource === null) {
    let path;
    try {
      path = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
    } catch (_) {
      throw new Error("axe-core is not installed: run `npm ci` in tests/browser");
    }
    axeSource = readFileSync(path, "utf8");
  }
  return axeSource;
}

// Runs axe-core on the page; throws with a readable list of the violations.
export async function checkA11y(page, label) {
  const loaded = await page.evaluate(() => typeof window.axe === "object");
  if (!loaded) await page.evaluate(`${source()}\n;void 0;`);
  const result = await page.evaluate(async (values) => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values },
      resultTypes: ["violations"],
    });
    return {
      url: r.url,
      review: r.incomplete.map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
          target: n.target.map((t) => (Array.isArray(t) ? t.join(" >>> ") : t)).join(" "),
          summary: (n.failureSummary || "").replace(/\s+/g, " ").trim(),
        })),
      })),
    };
  }, WCAG);
  if (result.violations.length === 0) {
    // What axe could not decide alone ("incomplete": e.g. the contrast of
    // a header cell scrolled out of its table's box, whose background it
    // cannot see) is listed for a person to look at, not failed.
    const review = result.review.length ? ` (to review by hand: ${result.review.join(", ")})` : "";
    console.log(`ok: a11y: ${label}${review}`);
    return;
  }
  const lines = [`accessibility (axe-core, WCAG 2.1 AA): ${label} at ${result.url}:`];
  for (const v of result.violations) {
    lines.push(`- ${v.id} (${v.impact}): ${v.help} <${v.helpUrl}>`);
    for (const n of v.nodes) lines.push(`    ${n.target}: ${n.summary}`);
  }
  throw new Error(lines.join("\n"));
}

// The page in the other language (`?lang=`), checked in a second tab of the
// same browser context (same session, same cookies) so the page under test
// keeps its state; the language cookie the switch sets is put back to `from`
// before the tab closes. For GET pages only. Like the scripts' own pages,
// the tab must raise no console error (CSP, script, missing asset).
export async function checkOtherLanguage(page, label, from, to) {
  const other = await page.context().newPage();
  const errors = [];
  other.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  other.on("pageerror", (e) => errors.push(String(e)));
  try {
    const url = new URL(page.url());
    url.searchParams.set("lang", to);
    await other.goto(url.href);
    const lang = await other.getAttribute("html", "lang");
    if (lang !== to) throw new Error(`${label}: ?lang=${to} gave a page in ${lang}`);
    await checkA11y(other, `${label} (${to})`);
    url.searchParams.set("lang", from);
    await other.goto(url.href);
    if (errors.length) throw new Error(`${label} (${to}): console errors: ${errors.join(" | ")}`);
  } finally {
    await other.close();
  }
}
