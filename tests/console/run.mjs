// Browser tests of the analyst console: playwright-core driving Debian's chromium (no browser
// download), against `vigie serve` on 127.0.0.1 (started by tests/e2e/console.rs, which seeds
// the store with `vigie ingest` and `vigie users add`).
//
// Environment: VIGIE_URL (http://127.0.0.1:PORT), VIGIE_PASSWORD (every test user's),
// VIGIE_SHOTS (directory for the screenshots, e.g. docs/console), VIGIE_SPOOL (the spool
// `vigie run` reads), VIGIE_POSTS (tests/fixtures/posts), CHROMIUM (default
// /usr/bin/chromium). The server's sessions last 2 minutes (session_minutes = 2). Prints one line per check; exits 1 on the first failure.

import { chromium } from "playwright-core";


import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const base = process.env.VIGIE_URL;
const password = process.env.VIGIE_PASSWORD;
const shots = process.env.VIGIE_SHOTS;
const spool = process.env.VIGIE_SPOOL;
const posts = process.env.VIGIE_POSTS;
if (!base || !password || !spool || !posts) {
  console.error("VIGIE_URL, VIGIE_PASSWORD, VIGIE_SPOOL and VIGIE_POSTS are required");
  process.exit(2);
}

function check(cond, what) {
  if (!cond) {
    throw new Error(`FAILED: ${what}`);
  }
  console.log(`ok - ${what}`);
}

// The ISO 8601 week of a date, as 2026-W49.
function isoWeek(date) {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7) + 3); // the week's Thursday
  const year = d.getUTCFullYear();
  const week = 1 + Math.floor((d - Date.UTC(year, 0, 1)) / 86400000 / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

async function shot(page, name) {
  if (shots) {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
  }
}

async function login(context, user) {
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(`${base}/incidents`), page.click("#login")]);
  return page;
}

// Signs in with the keyboard only: the user field has the focus, Tab moves on, Enter submits.
async function loginByKeyboard(context, user) {
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  // The user field has the focus when the page opens.
  await page.waitForFunction(() => document.activeElement && document.activeElement.name === "user");
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await Promise.all([page.waitForURL(`${base}/incidents`), page.keyboard.press("Enter")]);
  return page;
}

// Whether the page fits the window's width (no sideways scrolling on a laptop screen).
async function fitsWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

// Playwright gives each launch a fresh temporary profile of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let failed = false;
const cspErrors = [];
try {
  const analyst = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "fr-FR" });
  // A wrong password first: refused, and it will be in the trail.
  {
    const page = await analyst.newPage();
    await page.goto(`${base}/login`);
    await shot(page, "login");
    await page.fill('input[name="user"]', "ana");
    await page.fill('input[name="password"]', "not the password");
    await page.click("#login");
    await page.waitForSelector(".error");
    check(page.url().endsWith("/login"), "a wrong password stays on the login page");
    await page.close();
  }
  const page = await login(analyst, "ana");
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) cspErrors.push(m.text());
  });
  const rows = await page.locator("table.incidents tbody tr").count();
  check(rows >= 3, `the incident list shows the seeded incidents (${rows})`);
  check(await fitsWidth(page), "the incident list fits a 1366-pixel laptop screen");
  await shot(page, "incidents");

  // Filter with htmx: only critical incidents, the URL follows.
  await page.selectOption('select[name="severity"]', "critical");
  await Promise.all([
    page.waitForResponse((r) => r.url().includes("/incidents?") && r.request().headers()["hx-request"] === "true"),
    page.click("#filter"),
  ]);
  await page.waitForURL(/severity=critical/);
  const critical = await page.locator("table.incidents tbody tr").count();
  const badges = await page.locator("table.incidents tbody .badge").allTextContents();
  check(critical >= 1 && critical < rows, `the severity filter keeps ${critical} of ${rows}`);
  check(badges.every((b) => b.trim() === "critical"), "every row kept is critical");

  // Full-text search.
  await page.fill('input[name="q"]', "escrow");
  await Promise.all([page.waitForURL(/q=escrow/), page.click("#filter")]);
  check((await page.locator("table.incidents tbody tr").count()) >= 1, "text search finds the sale mentioning escrow");

  // The sale dropped into the spool while `vigie run` serves the console.
  await page.goto(`${base}/incidents?q=${encodeURIComponent("fraiche nov")}`);
  check((await page.locator("table.incidents tbody tr").count()) === 1, "the sale recorded from the spool is listed");

  // Watchlists: the shipped organisations, searchable, each linking to its incidents.
  await page.goto(`${base}/watchlists?q=${encodeURIComponent("médecin")}`);
  const orgLink = page.locator('table.watchlist a[href="/incidents?org=medecindirect"]');
  check((await orgLink.count()) === 1, "the watchlist search finds MédecinDirect");
  await shot(page, "watchlists");
  await Promise.all([page.waitForURL(/\/incidents\?org=medecindirect/), orgLink.click()]);
  check((await page.locator("table.incidents tbody tr").count()) >= 1, "an organisation's incidents open from the watchlist");

  // The weekly digest, in the page, under its own policy (its style allowed by hash).
  // This week's, where the seeded incidents are (the default is the last full week).
  await page.goto(`${base}/digest?week=${isoWeek(new Date())}`);
  const digest = await page.content();
  check((await page.locator("h1").count()) === 1 && digest.includes("TLP:AMBER"), "the weekly digest is rendered");
  check(digest.includes("MédecinDirect"), "the digest names the organisations of the week");
  check(!/\b[12]\d{14}\b/.test(digest), "the digest holds no raw NIR");
  // `.figures` is a flex box only if the inline style sheet was allowed (else: block).
  const figures = await page.locator("#headline .figures").evaluate((e) => getComputedStyle(e).display);
  check(figures === "flex", `the digest's style sheet applies (display: ${figures})`);
  await shot(page, "digest");

  // Open the first critical incident.
  await page.goto(`${base}/incidents?severity=critical`);
  const first = page.locator("table.incidents tbody tr td a").first();
  const id = (await first.textContent()).trim();
  await Promise.all([page.waitForURL(`${base}/incidents/${id}`), first.click()]);
  check((await page.locator("h1").textContent()).includes(id), `incident ${id} opens`);
  const pageText = await page.locator("main").textContent();
  check(!/\b[12]\d{14}\b/.test(pageText), "no raw NIR on the incident page before a reveal");
  check((await page.locator("pre.doc mark").count()) >= 1, "organisation mentions are highlighted");
  check(await fitsWidth(page), "the incident page fits a 1366-pixel laptop screen");
  await shot(page, "incident");

  // Reveal with a typed reason (htmx swaps the result in).
  const reason = `Appel du CHU, confirmation de la liste (browser test ${Date.now()})`;
  await page.fill("#reveal-reason", reason);
  await page.click("#reveal-button");
  await page.waitForSelector("#reveal table.revealed");
  const revealed = await page.locator("#reveal table.revealed").textContent();
  check(/\b[12]\d{14}\b/.test(revealed), "the reveal shows raw NIRs to the analyst");
  await shot(page, "reveal");

  // The reveal is in the audit trail with its reason.
  await page.goto(`${base}/audit`);
  const audit = await page.locator("table.audit").textContent();
  check(audit.includes(reason), "the audit screen shows the reveal with its reason");
  check(audit.includes("login_failed"), "the audit screen shows the failed login");
  check(!/\b[12]\d{14}\b/.test(audit), "the audit trail holds no raw NIR");
  await shot(page, "audit");

  // Mark a false positive.
  await page.goto(`${base}/incidents/${id}`);
  await page.fill('#triage input[name="reason"]', "données de test publiées par un chercheur");
  await page.click("#false-positive");
  await page.waitForFunction(() => document.querySelector("#triage-state")?.textContent === "false_positive");
  check(true, "false positive recorded and shown by the htmx partial");
  await page.goto(`${base}/incidents?status=false_positive`);
  check((await page.locator(`table.incidents a[href="/incidents/${id}"]`).count()) === 1, "the false positive is listed under its status");

  // A POST without the CSRF token, with the session cookie: refused.
  const forged = await page.request.post(`${base}/incidents/${id}/triage`, {
    form: { state: "new" },
    maxRedirects: 0,
  });
  check(forged.status() === 403, `a CSRF-less POST is refused (${forged.status()})`);
  await page.goto(`${base}/incidents/${id}`);
  check((await page.locator("#triage-state").textContent()) === "false_positive", "the refused POST changed nothing");

  // A false positive silences its reposts: the sale recorded from the spool is marked a false
  // positive, then an edited repost dropped into the spool joins it (nothing sent) or opens
  // as a suppressed look-alike.
  await page.goto(`${base}/incidents?q=${encodeURIComponent("fraiche nov")}`);
  const saleId = (await page.locator("table.incidents tbody tr td a").first().textContent()).trim();
  await page.goto(`${base}/incidents?status=suppressed`);
  const suppressedBefore = await page.locator("table.incidents tbody tr").count();
  await page.goto(`${base}/incidents/${saleId}`);
  const sightingsBefore = await page.locator("#sightings tbody tr").count();
  await page.fill('#triage input[name="reason"]', "annonce de test déposée par l'équipe (browser test)");
  await page.click("#false-positive");
  await page.waitForFunction(() => document.querySelector("#triage-state")?.textContent === "false_positive");
  const repost = readFileSync(join(posts, "fr_medecindirect_vente.txt"), "utf8")
    .replace("fraiche nov.", "fraiche nov. UP")
    .replace("Prix : 4 BTC", "Prix : 3 BTC");
  writeFileSync(join(spool, ".repost.txt"), repost);
  renameSync(join(spool, ".repost.txt"), join(spool, "repost.txt"));
  let joined = false;
  let suppressed = false;
  for (let i = 0; i < 150 && !joined && !suppressed; i++) {
    await page.waitForTimeout(200);
    await page.goto(`${base}/incidents/${saleId}`);
    joined = (await page.locator("#sightings tbody tr").count()) > sightingsBefore;
    if (!joined) {
      await page.goto(`${base}/incidents?status=suppressed`);
      suppressed = (await page.locator("table.incidents tbody tr").count()) > suppressedBefore;
    }
  }
  check(joined || suppressed, `the repost of the false positive is recorded ${joined ? "in it" : "as a suppressed look-alike"}`);
  if (joined) {
    check((await page.locator("#triage-state").textContent()) === "false_positive", "the false positive stays one after its repost");
  }

  // Merge two other incidents, then split the absorbed snapshot out again.
  await page.goto(`${base}/incidents`);
  const others = (await page.locator("table.incidents tbody tr td a").allTextContents())
    .map((t) => t.trim())
    .filter((t) => /^\d+$/.test(t) && t !== id && t !== saleId);
  check(others.length >= 2, `two more incidents to merge (${others.join(", ")})`);
  const [survivor, absorbed] = others;
  await page.goto(`${base}/incidents/${survivor}`);
  await page.fill("#merge-from", absorbed);
  await page.fill("#merge-reason", "même vendeur, même extraction (browser test)");
  // The form posts from the survivor's page back to it: wait for what only the merge shows.
  await page.click("#merge-button");
  await page.waitForSelector("#split-form");
  const boxes = page.locator('#split-form input[name="snapshot"]');
  check((await boxes.count()) >= 2, "after the merge the survivor lists both snapshots, with the split form");
  check((await page.locator("#triage .history").textContent()).includes(`merged incident ${absorbed} into ${survivor}`), "the merge is in the incident's history");
  await page.goto(`${base}/incidents/${absorbed}`);
  check(page.url().endsWith(`/incidents/${survivor}`), "the absorbed incident's page leads to the survivor");
  await boxes.last().check();
  await page.fill("#split-reason", "deux annonces distinctes, en fait (browser test)");
  await Promise.all([page.waitForURL((u) => /\/incidents\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/${survivor}`)), page.click("#split-button")]);
  check((await page.locator("#triage .history").textContent()).includes("into new incident"), "the split opened a new incident that says where it came from");
  await shot(page, "split");

  // A viewer: no reveal form, and a reveal POST (with a valid CSRF token) is refused.
  const viewerContext = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "en-GB" });
  const viewer = await loginByKeyboard(viewerContext, "vic");
  check(true, "a viewer signs in with the keyboard only (Tab, Enter)");
  await viewer.goto(`${base}/incidents/${id}`);
  check((await viewer.locator("#reveal-button").count()) === 0, "a viewer has no reveal button");
  const csrf = await viewer.locator('input[name="csrf"]').first().getAttribute("value");
  const refused = await viewer.request.post(`${base}/incidents/${id}/reveal`, {
    form: { reason: "I would like to see them please", csrf },
    maxRedirects: 0,
  });
  check(refused.status() === 403, `a viewer's reveal is refused (${refused.status()})`);
  check(!/\b[12]\d{14}\b/.test(await refused.text()), "the refusal shows no raw NIR");
  check((await viewer.locator("nav").textContent()).includes("Incidents"), "English for an en-GB browser");

  // Signing out ends the session.
  await Promise.all([viewer.waitForURL(`${base}/login`), viewer.click("#logout")]);
  await viewer.goto(`${base}/incidents`);
  check(viewer.url().endsWith("/login"), "after signing out, pages ask to sign in again");

  // Sessions expire: signed in, then idle past the server's 2 minutes, pages ask to sign in.
  const idleContext = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "fr-FR" });
  const idle = await login(idleContext, "vic");
  await idle.waitForTimeout(125_000);
  await idle.goto(`${base}/incidents`);
  check(idle.url().endsWith("/login"), "an expired session goes back to the login page");

  check(cspErrors.length === 0, `no Content-Security-Policy violation (${cspErrors.join(" | ")})`);
} catch (e) {
  failed = true;
  console.error(e.message || e);
} finally {
  await browser.close();

}
process.exit(failed ? 1 : 0);
