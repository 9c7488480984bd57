// The workbench's benchmark (issue 11): the queue view over 10,000 open work orders — the API's
// p99 for the page the view asks for, and the page's first render in headless Chromium (from
// navigation to the queue's table drawn). The orders are reported by a real device
// (`seed_orders`, a core store and the sync client) and folded by the server's projector.
//
//   node bench/first_render.mjs [sqlite|postgres] [count]
//
// Needs GRIDWORK_SERVER_BIN, GRIDWORK_CLI_BIN and GRIDWORK_SEED_BIN (release builds for numbers
// worth writing down), and GRIDWORK_TEST_PG_URL for postgres.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cpus, loadavg } from "node:os";
import { World, open } from "../test_support/harness.mjs";

const run = promisify(execFile);
const backend = process.argv[2] || "sqlite";
const count = Number(process.argv[3] || 10000);
const MICRO = "320612/004/017/03/02";

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const w = await World.start(backend);
try {
  await w.areas({ "320612": "通州区", "320612/004": "金沙街道", "320612/004/017": "幸福社区",
    "320612/004/017/03": "第三网格", [MICRO]: "3号楼" });
  const worker = await w.person("王芳", ["grid_worker:320612/004/017/03"]);
  await w.person("张伟", ["town_operator:320612/004"], { login: "zhangwei" });
  const code = (await w.admin("POST", "/enrolment-codes", { user_id: worker })).code;
  const seeded = await run(process.env.GRIDWORK_SEED_BIN, ["--server", w.url, "--code", code, "--area", MICRO,
    "--count", String(count)], { maxBuffer: 1 << 20 });
  console.log(`seeded: ${seeded.stdout.trim()}`);
  const page = await w.signIn("zhangwei");
  const folded = Date.now();
  await page.waitForFunction(async (n) => (await (await fetch("/api/v1/work-orders/stats")).json()).open >= n,
    count, { timeout: 600000, polling: 500 });
  console.log(`read model folded ${count} orders ${((Date.now() - folded) / 1000).toFixed(1)} s after the push`);

  // The API: the page of 50 the queue view asks for, 200 times (after 20 to warm up).
  const api = await page.evaluate(async () => {
    const times = [];
    for (let i = 0; i < 220; i += 1) {
      const t = performance.now();
      const r = await fetch("/api/v1/work-orders?queue=to_accept&limit=50&order=desc");
      await r.json();
      if (i >= 20) times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b);
  });
  const stats = await page.evaluate(async () => {
    const times = [];
    for (let i = 0; i < 110; i += 1) {
      const t = performance.now();
      await (await fetch("/api/v1/work-orders/stats")).json();
      if (i >= 10) times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b);
  });
  // First render: a fresh page (same session) opening the queue, 20 times.
  const renders = [];
  for (let i = 0; i < 22; i += 1) {
    const p = await page.context().newPage();
    const t = Date.now();
    await p.goto(`${w.url}/workbench#/queues/to_accept`);
    await p.waitForFunction(() => document.querySelector("#view")?.dataset.ready === "true"
      && document.querySelectorAll("#queue-list tbody tr").length === 50);
    if (i >= 2) renders.push(Date.now() - t);
    await p.close();
  }
  renders.sort((a, b) => a - b);
  const f = (x) => x.toFixed(1);
  console.log(`machine: ${cpus().length} × ${cpus()[0].model}; load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`${backend}: ${count} open orders: queue page API p50 ${f(pct(api, 50))} ms, p99 ${f(pct(api, 99))} ms (${api.length} runs)`);
  console.log(`${backend}: Today figures API p50 ${f(pct(stats, 50))} ms, p99 ${f(pct(stats, 99))} ms (${stats.length} runs)`);
  console.log(`${backend}: first render of the queue view p50 ${pct(renders, 50)} ms, p99/max ${renders[renders.length - 1]} ms (${renders.length} runs)`);
  await open(page, "#/today");
} finally {
  await w.stop();
}
