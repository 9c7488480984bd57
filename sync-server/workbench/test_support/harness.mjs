// What the workbench's browser tests share: a real gridwork-server (SQLite, or PostgreSQL in a
// fresh database when GRIDWORK_TEST_PG_URL is set), the sync admin's API to set up a district,
// people with web logins (their one-time passwords already changed), real devices (the gridwork
// CLI with its own store) and real Chromium pages signed in as a person.
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const run = promisify(execFile);
export const TOKEN = `gwa_${"ef".repeat(32)}`;
const SERVER = process.env.GRIDWORK_SERVER_BIN;
const CLI = process.env.GRIDWORK_CLI_BIN;
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
export const PASSWORD = "工作台测试密码足够长了";

/** The backends to run on: SQLite always; PostgreSQL when a test server is given (required
 * under CI). */
export function backends() {
  const out = ["sqlite"];
  if (process.env.GRIDWORK_TEST_PG_URL) out.push("postgres");
  else if (process.env.CI) throw new Error("GRIDWORK_TEST_PG_URL is unset under CI: PostgreSQL browser tests must run");
  return out;
}

/** A fresh PostgreSQL database on the test server; its URL. */
async function freshDatabase() {
  const url = new URL(process.env.GRIDWORK_TEST_PG_URL);
  const name = `wb_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await run("psql", [url.toString(), "-q", "-c", `CREATE DATABASE ${name}`]);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A running server with its data directory, the admin API and devices. */
export class World {
  static async start(backend, { env = {} } = {}) {
    if (!SERVER || !CLI) throw new Error("GRIDWORK_SERVER_BIN and GRIDWORK_CLI_BIN must be set (workbench/test.sh sets them)");
    const w = new World();
    w.dir = mkdtempSync(join(tmpdir(), "gridwork-workbench-"));
    const database = backend === "postgres" ? await freshDatabase() : "";
    w.env = { ...process.env, GRIDWORK_ADMIN_TOKEN: TOKEN, GRIDWORK_LOG: "warn", GRIDWORK_DATABASE_URL: database, ...env };
    w.url = await new Promise((resolve, reject) => {
      w.server = spawn(SERVER, ["--listen", "127.0.0.1:0", "--data-dir", join(w.dir, "server")], {
        env: w.env, stdio: ["ignore", "pipe", "inherit"],
      });
      w.server.on("exit", (code) => reject(new Error(`gridwork-server exited (${code})`)));
      createInterface({ input: w.server.stdout }).on("line", (line) => {
        const m = line.match(/listening on (http:\/\/\S+)/);
        if (m) resolve(m[1]);
      });
    });
    w.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    w.pageErrors = [];
    return w;
  }

  async stop() {
    await this.browser?.close();
    this.server?.removeAllListeners("exit");
    this.server?.kill("SIGTERM");
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Calls the admin API; resolves with the JSON answer (throws on an error status). */
  async admin(method, path, body) {
    const res = await fetch(`${this.url}/admin/v1${path}`, {
      method, headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(data)}`);
    return data;
  }

  /** Registers the areas, path → name. */
  async areas(named) {
    for (const [path, name] of Object.entries(named)) await this.admin("POST", "/areas", { path, name });
  }

  /** A person with roles (`role:area` strings) and, optionally, departments and a web login
   * (password already changed to PASSWORD); their user id. */
  async person(name, roles, { login, departments } = {}) {
    const made = await this.admin("POST", "/users", {
      name, roles: roles.map((r) => { const [role, area] = r.split(":"); return { role, area }; }),
    });
    const id = made.id ?? made.user?.id;
    if (departments) await this.admin("PUT", `/users/${id}/departments`, { departments });
    if (login) {
      const otp = "一次性密码也要足够长才行";
      await this.admin("POST", `/users/${id}/login`, { login, password: otp });
      const res = await fetch(`${this.url}/api/v1/session`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ login, password: otp }),
      });
      const me = await res.json();
      if (!res.ok) throw new Error(`sign-in of ${login}: ${JSON.stringify(me)}`);
      const cookie = res.headers.get("set-cookie").split(";")[0];
      const changed = await fetch(`${this.url}/api/v1/me/password`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Cookie: cookie, "X-CSRF-Token": me.csrf_token },
        body: JSON.stringify({ current_password: otp, new_password: PASSWORD }),
      });
      if (!changed.ok) throw new Error(`password change of ${login}: ${await changed.text()}`);
    }
    return id;
  }

  /** A device of the person `userId`, enrolled with a fresh code: run(args) → parsed JSON. */
  async device(userId, label) {
    const code = (await this.admin("POST", "/enrolment-codes", { user_id: userId })).code;
    const store = join(this.dir, `${label}.db`);
    const cli = async (...args) => {
      const { stdout } = await run(CLI, ["--store", store, "--json", ...args], { env: this.env });
      return JSON.parse(stdout);
    };
    await cli("enrol", "--server", this.url, "--code", code, "--device-name", label);
    return cli;
  }

  /** A Chromium page of its own context (its own cookies), signed in to the workbench. */
  async signIn(login, lang = "zh-CN") {
    const context = await this.browser.newContext({ locale: lang });
    const page = await context.newPage();
    page.on("pageerror", (e) => this.pageErrors.push(`${login}: ${e}`));
    // A server error is a bug: keep what the server said and where.
    page.on("response", async (r) => {
      if (r.status() >= 500) this.pageErrors.push(`${login}: ${r.status()} ${r.url()} ${await r.text().catch(() => "")}`);
    });
    page.on("console", (m) => {
      // The page asks who is signed in before anyone is: that 401 is expected.
      if (m.type() === "error" && !/status of 401/.test(m.text())) this.pageErrors.push(`${login}: ${m.text()}`);
    });
    await page.addInitScript((l) => localStorage.setItem("gridwork.lang", l), lang);
    await page.goto(`${this.url}/workbench`);
    await page.waitForSelector("#login:not([hidden])");
    await page.fill("#login-name", login);
    await page.fill("#login-password", PASSWORD);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#app:not([hidden])");
    await page.waitForSelector('#view[data-ready="true"]');
    return page;
  }
}

/** Opens `hash` and waits for the view to finish rendering. */
export async function open(page, hash) {
  await page.evaluate(() => { document.querySelector("#view").dataset.ready = "false"; });
  await page.evaluate((h) => {
    // The same address again fires no hashchange: ask the page to render it anew.
    if (location.hash === h) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = h;
  }, hash);
  await page.waitForSelector('#view[data-ready="true"]');
}

/** Re-renders the current view until `check()` (run in the page) is true: the read model
 * folds a device's push within a moment, not at once. */
export async function until(page, hash, check, arg) {
  for (let i = 0; i < 50; i += 1) {
    await open(page, hash);
    if (await page.evaluate(check, arg)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting on ${hash}`);
}
