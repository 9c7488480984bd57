// The closed loop of a work order in the browser, on each backend: a grid worker's phone (the
// gridwork CLI) reports → the town centre (web) sees it in its queue, with a live alert →
// accepts and dispatches to a department → the department's handler (web) signs for it,
// handles and feeds back → the centre verifies with the resident's satisfaction and closes →
// the phone, after its sync, holds the closed order with the whole timeline. Along the way: a
// stale step from a second tab is refused with a translated message and writes nothing; a
// double click sends one step; a handler sees only their department's orders.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { TEXTS } from "../i18n.js";
import { World, backends, open, until, PASSWORD } from "../test_support/harness.mjs";

const ZH = TEXTS["zh-CN"];
const GRID = "320612/004/017/03";
const MICRO = `${GRID}/02`;

for (const backend of backends()) {
  test(`the closed loop of a work order (${backend})`, async (t) => {
    const w = await World.start(backend);
    t.after(() => w.stop());
    await w.areas({
      "320612": "通州区", "320612/004": "金沙街道", "320612/004/017": "幸福社区",
      [GRID]: "幸福社区第三网格", [MICRO]: "3号楼微网格",
    });
    const wangFang = await w.person("王芳", [`grid_worker:${GRID}`]);
    await w.person("张伟", ["town_operator:320612/004"], { login: "zhangwei" });
    await w.person("李强", ["department_handler:320612/004"], { login: "liqiang", departments: ["sanitation"] });
    await w.person("赵敏", ["department_handler:320612/004"], { login: "zhaomin", departments: ["police"] });
    const phone = await w.device(wangFang, "王芳的手机");

    const centre = await w.signIn("zhangwei");
    let id;

    await t.test("a report from the phone reaches the centre's queue, with a live alert", async () => {
      ({ id } = await phone("report", "--area", MICRO, "--category", "sanitation", "--severity", "important",
        "--title", "楼道垃圾堆放", "--description", "3号楼2单元楼道堆放大量垃圾，气味很大"));
      await phone("sync");
      await centre.waitForSelector(`#alerts li[data-order="${id}"][data-kind="new_report"]`, { state: "attached", timeout: 15000 });
      assert.match(await centre.textContent(`#alerts li[data-order="${id}"]`), /楼道垃圾堆放/);
      await until(centre, "#/queues/to_accept", (oid) => !!document.querySelector(`tr[data-id="${oid}"]`), id);
      assert.equal(await centre.textContent(`tr[data-id="${id}"] td:nth-child(3)`), ZH["state.reported"]);
    });

    await t.test("Chinese search finds it in the queue", async () => {
      await centre.fill("#filter-q", "垃圾");
      await centre.click("#queue-filter button[type=submit]");
      await centre.waitForSelector(`#queue-list tr[data-id="${id}"]`);
      await centre.fill("#filter-q", "消防");
      await centre.click("#queue-filter button[type=submit]");
      await centre.waitForFunction(() => document.querySelector("#queue-list").dataset.count === "0");
    });

    const second = await centre.context().newPage();
    await t.test("the centre accepts; a double click sends one step", async () => {
      await second.goto(`${w.url}/workbench#/order/${id}`);
      await second.waitForSelector('#view[data-ready="true"]');
      await open(centre, `#/order/${id}`);
      const accept = 'form[data-action="accept"] button[type=submit]';
      await centre.click(accept, { clickCount: 2 });
      await centre.waitForFunction((s) => document.querySelector("#order-state")?.textContent === s, ZH["state.accepted"]);
      const accepts = await centre.$$eval('#timeline li[data-type="accept"]', (l) => l.length);
      assert.equal(accepts, 1);
    });

    await t.test("a stale accept from a second tab is refused, translated, and writes nothing", async () => {
      await second.click('form[data-action="accept"] button[type=submit]');
      await second.waitForSelector("#error:not([hidden])");
      assert.equal(await second.getAttribute("#error", "data-code"), "illegal_transition");
      assert.equal(await second.textContent("#error"), ZH["error.illegal_transition"]);
      await open(second, `#/order/${id}`);
      assert.equal(await second.$$eval('#timeline li[data-type="accept"]', (l) => l.length), 1);
      await second.close();
    });

    await t.test("the centre dispatches to sanitation; only that department's handler sees it", async () => {
      await centre.selectOption('form[data-action="dispatch"] select[name=department]', "sanitation");
      await centre.fill('form[data-action="dispatch"] input[name=note]', "请今日清理");
      await centre.click('form[data-action="dispatch"] button[type=submit]');
      await centre.waitForFunction((s) => document.querySelector("#order-state")?.textContent === s, ZH["state.dispatched"]);
      const police = await w.signIn("zhaomin");
      await open(police, "#/queues/to_sign");
      assert.equal(await police.$(`tr[data-id="${id}"]`), null, "police does not see sanitation's order");
      await open(police, `#/order/${id}`);
      assert.equal(await police.getAttribute("#error", "data-code"), "not_found");
      await police.context().close();
      // Those 404s were the point of the check.
      w.pageErrors = w.pageErrors.filter((e) => !(e.startsWith("zhaomin:") && /status of 404/.test(e)));
    });

    await t.test("the sanitation handler signs for it, handles it and feeds back", async () => {
      const handler = await w.signIn("liqiang");
      await until(handler, "#/queues/to_sign", (oid) => !!document.querySelector(`tr[data-id="${oid}"]`), id);
      await open(handler, `#/order/${id}`);
      for (const [step, state] of [["sign", "signed"], ["handle", "handling"], ["feedback", "fed_back"]]) {
        await handler.fill(`form[data-action="${step}"] input[name=note]`, `${ZH[`action.${step}`]}完成`);
        await handler.click(`form[data-action="${step}"] button[type=submit]`);
        await handler.waitForFunction((s) => document.querySelector("#order-state")?.textContent === s, ZH[`state.${state}`]);
      }
      assert.equal(await handler.$('form[data-action="close"]'), null, "a handler may not close");
      await handler.context().close();
    });

    await t.test("the centre verifies with the resident's satisfaction and closes", async () => {
      await open(centre, `#/order/${id}`);
      await centre.selectOption('form[data-action="verify"] select[name=satisfaction]', "5");
      await centre.click('form[data-action="verify"] button[type=submit]');
      await centre.waitForFunction((s) => document.querySelector("#order-state")?.textContent === s, ZH["state.verified"]);
      assert.equal(await centre.textContent("#order-satisfaction"), "5/5");
      await centre.click('form[data-action="close"] button[type=submit]');
      await centre.waitForFunction((s) => document.querySelector("#order-state")?.textContent === s, ZH["state.closed"]);
      const steps = await centre.$$eval("#timeline li", (l) => l.map((x) => x.dataset.type));
      assert.deepEqual(steps, ["report", "accept", "dispatch", "sign", "handle", "feedback", "verify", "close"]);
      const names = await centre.$$eval("#timeline li .who", (l) => l.map((x) => x.textContent));
      assert.match(names[0], /王芳/);
      assert.match(names[1], /张伟/);
      assert.match(names[3], /李强/);
    });

    await t.test("the reporting phone, after its sync, holds the order closed with every step", async () => {
      await phone("sync");
      const open_ = await phone("work-orders");
      assert.ok(!JSON.stringify(open_).includes(id), "no longer open on the phone");
      const shown = await phone("work-order", "show", id);
      assert.equal(shown.summary.state, "closed");
      assert.equal(shown.summary.satisfaction, 5);
      assert.deepEqual(shown.summary.events.map((e) => e.event_type),
        ["report", "accept", "dispatch", "sign", "handle", "feedback", "verify", "close"]);
      assert.ok(shown.summary.events.every((e) => e.received_at), "every step has its server time");
    });

    await t.test("in English every text of every view is translated", async () => {
      await centre.selectOption("#lang", "en");
      for (const hash of ["#/today", "#/queues/to_accept", `#/order/${id}`, "#/tasks", "#/households", "#/patrols", "#/reference"]) {
        await open(centre, hash);
        const text = await centre.evaluate(() => document.body.innerText);
        assert.ok(!text.includes("⟦"), `${hash}: an untranslated key: ${text.match(/⟦[^⟧]*⟧/)}`);
      }
      assert.equal(await centre.textContent("nav.main a[data-view=queues]"), TEXTS.en["nav.queues"]);
      await open(centre, `#/order/${id}`);
      assert.equal(await centre.textContent("#order-state"), TEXTS.en["state.closed"]);
      await centre.selectOption("#lang", "zh-CN");
    });

    await t.test("a forged CSRF token and an ended session write nothing, with clear messages", async () => {
      await open(centre, `#/order/${id}`);
      assert.ok(await centre.$('form[data-action="reopen"]'), "the centre may reopen a closed order");
      const cookie = (await centre.context().cookies()).find((c) => c.name === "gw_session");
      const forged = await fetch(`${w.url}/api/v1/work-orders/${id}/actions`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Cookie: `gw_session=${cookie.value}`, "X-CSRF-Token": "forged" },
        body: JSON.stringify({ type: "reopen" }),
      });
      assert.equal(forged.status, 403);
      assert.equal((await forged.json()).error.code, "csrf_invalid");
      // Signed out in another tab: the next step is refused and the page asks to sign in.
      const other = await centre.context().newPage();
      await other.goto(`${w.url}/workbench`);
      await other.waitForSelector("#app:not([hidden])");
      await other.click("#logout");
      await other.waitForSelector("#login:not([hidden])");
      await centre.click('form[data-action="reopen"] button[type=submit]');
      await centre.waitForSelector("#login:not([hidden])");
      // Signing out dropped the cookie: the request carries no session at all.
      assert.equal(await centre.getAttribute("#error", "data-code"), "missing_credential");
      assert.equal(await centre.textContent("#error"), ZH["error.missing_credential"]);
      w.pageErrors = w.pageErrors.filter((e) => !/status of 40[13]/.test(e));
      await other.close();
      await centre.fill("#login-name", "zhangwei");
      await centre.fill("#login-password", PASSWORD);
      await centre.click("#login-form button[type=submit]");
      await centre.waitForSelector("#app:not([hidden])");
      await open(centre, `#/order/${id}`);
      assert.equal(await centre.textContent("#order-state"), ZH["state.closed"], "nothing was reopened");
    });

    await t.test("Today shows the figures and the charts", async () => {
      await open(centre, "#/today");
      assert.equal(await centre.textContent("#fig-open strong"), "0");
      assert.ok(await centre.$("#chart-severity svg"));
      assert.ok(await centre.$("#queue-counts li[data-queue=to_accept]"));
    });

    assert.deepEqual(w.pageErrors, []);
  });
}
