// Browser tests of staff sign-in at the console: a sync admin made on the server's machine
// (`gridwork-server admin create-staff`) signs in with the printed one-time password, must change
// it, works in the console (a change sent with the session's CSRF token, audited with their id),
// keeps the session across a reload, and signs out. Real server, real Chromium (Playwright).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { TEXTS } from "../i18n.js";

const run = promisify(execFile);
const TOKEN = `gwa_${"cd".repeat(32)}`;
const SERVER = process.env.GRIDWORK_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const NEW_PASSWORD = "周宇的新密码足够长了";

let dir, server, url, browser, page, otp;
const pageErrors = [];
const env = () => ({ ...process.env, GRIDWORK_ADMIN_TOKEN: TOKEN, GRIDWORK_LOG: "warn", GRIDWORK_DATABASE_URL: "" });

function startServer() {
  return new Promise((resolve, reject) => {
    server = spawn(SERVER, ["--listen", "127.0.0.1:0", "--data-dir", join(dir, "server")], {
      env: env(), stdio: ["ignore", "pipe", "inherit"],
    });
    server.on("exit", (code) => reject(new Error(`gridwork-server exited (${code})`)));
    const lines = createInterface({ input: server.stdout });
    lines.on("line", (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
  });
}

before(async () => {
  assert.ok(SERVER, "GRIDWORK_SERVER_BIN must be set (console/test.sh sets it)");
  dir = mkdtempSync(join(tmpdir(), "gridwork-console-staff-"));
  // The first sync admin, made on the machine before the server runs.
  const { stdout } = await run(SERVER, ["--data-dir", join(dir, "server"), "admin", "create-staff",
    "--login", "zhouyu", "--name", "周宇", "--role", "sync_admin:320612"], { env: env() });
  otp = stdout.split("\n").find((l) => l.startsWith("  ")).trim();
  url = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ locale: "zh-CN" });
  page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
});

after(async () => {
  await browser?.close();
  server?.removeAllListeners("exit");
  server?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function audit() {
  const res = await fetch(`${url}/admin/v1/audit`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return (await res.json()).entries;
}

test("a sync admin signs in with a staff account and out again", async (t) => {
  await t.test("a wrong password is refused with a clear message", async () => {
    await page.goto(`${url}/console`);
    assert.equal(await page.textContent("#login h2"), TEXTS["zh-CN"]["staff.heading"]);
    await page.fill("#staff-login", "zhouyu");
    await page.fill("#staff-password", "not the password");
    await page.click("#staff-form button[type=submit]");
    await page.waitForSelector("#error:not([hidden])");
    assert.equal(await page.textContent("#error"), TEXTS["zh-CN"]["error.login_failed"]);
    assert.equal(await page.isVisible("#app"), false);
  });

  await t.test("the one-time password must be changed first", async () => {
    await page.fill("#staff-login", "ZhouYu");
    await page.fill("#staff-password", otp);
    await page.click("#staff-form button[type=submit]");
    await page.waitForSelector("#password-form:not([hidden])");
    assert.equal(await page.isVisible("#app"), false);
    await page.fill("#password-current", otp);
    await page.fill("#password-new", NEW_PASSWORD);
    await page.click("#password-form button[type=submit]");
    await page.waitForSelector("#app:not([hidden])");
    await page.waitForFunction(() => document.querySelector("#stat-head").textContent !== "");
    assert.equal(await page.textContent("#stat-head"), "0");
  });

  await t.test("the session cookie is HttpOnly: the page cannot read it", async () => {
    assert.equal(await page.evaluate(() => document.cookie), "");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("gridwork.token")), null);
  });

  await t.test("a change is sent with the CSRF token and audited with the person's id", async () => {
    await page.click("nav [data-view=areas]");
    await page.fill("#area-path", "320612");
    await page.fill("#area-name", "通州区");
    await page.click("#area-form button[type=submit]");
    await page.waitForSelector('#area-tree li[data-path="320612"]');
    const entries = await audit();
    const me = entries.find((e) => e.action === "login").actor_id;
    assert.ok(me);
    const made = entries.find((e) => e.action === "admin");
    assert.equal(made.actor_id, me);
    assert.equal(made.detail, "POST /admin/v1/areas → 201");
  });

  await t.test("the admin gives a person a web login; without the sync admin role the console refuses them", async () => {
    await page.click("nav [data-view=users]");
    await page.waitForSelector('#user-area option[value="320612"]', { state: "attached" });
    await page.fill("#user-name", "钱敏");
    await page.selectOption("#user-area", "320612");
    await page.selectOption("#user-role", "town_operator");
    await page.click("#user-form button[type=submit]");
    const row = page.locator("#users-table tbody tr", { hasText: "钱敏" });
    await row.locator(".web-button").click();
    await page.waitForSelector("#web-login:not([hidden])");
    await page.fill("#web-login-name", "QianMin");
    await page.click("#web-login-form button[type=submit]");
    await page.waitForSelector("#web-otp-box:not([hidden])");
    const personOtp = (await page.textContent("#web-otp")).trim();
    assert.equal(personOtp.length, 16);
    assert.equal(await page.textContent("#notice"), "已为“钱敏”设置网页登录。");
    // The person signs in elsewhere, sets a password, and is refused the console.
    const other = await (await browser.newContext({ locale: "zh-CN" })).newPage();
    await other.goto(`${url}/console`);
    await other.fill("#staff-login", "qianmin");
    await other.fill("#staff-password", personOtp);
    await other.click("#staff-form button[type=submit]");
    await other.waitForSelector("#password-form:not([hidden])");
    await other.fill("#password-current", personOtp);
    await other.fill("#password-new", "钱敏自己的新密码很长");
    await other.click("#password-form button[type=submit]");
    await other.waitForSelector("#error:not([hidden])");
    assert.equal(await other.textContent("#error"), TEXTS["zh-CN"]["error.forbidden"]);
    assert.equal(await other.isVisible("#app"), false);
    await other.context().close();
    // A reset makes a new one-time password.
    await page.click("#web-reset");
    await page.waitForFunction((old) => document.querySelector("#web-otp").textContent !== old, personOtp);
    assert.equal((await page.textContent("#web-otp")).trim().length, 16);
  });

  await t.test("the session survives a reload, in English too", async () => {
    await page.selectOption("#lang", "en");
    await page.reload();
    await page.waitForSelector("#app:not([hidden])");
    assert.equal(await page.textContent("nav [data-view=areas]"), "Areas");
  });

  await t.test("signing out ends the session", async () => {
    await page.click("#logout");
    await page.waitForSelector("#login:not([hidden])");
    assert.equal(await page.isVisible("#app"), false);
    assert.equal(await page.textContent("#login h2"), TEXTS.en["staff.heading"]);
    const status = await page.evaluate(async () => (await fetch("/api/v1/me")).status);
    assert.equal(status, 401);
    assert.ok((await audit()).some((e) => e.action === "logout"));
    await page.reload();
    await page.waitForSelector("#login:not([hidden])");
    assert.equal(await page.isVisible("#app"), false);
  });

  await t.test("the page raised no script or CSP errors", () => {
    // The wrong password and the signed-out `/api/v1/me` (401) were refused on purpose.
    const expected = /status of 401 /;
    // (The town operator's refusal, 403, was on another page.)
    assert.deepEqual(pageErrors.filter((e) => !expected.test(e)), []);
  });
});
