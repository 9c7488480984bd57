// Tasks and conflicts in the browser, on each backend, with real devices (the gridwork CLI):
// a task the town centre issues to the whole town reaches two grid workers' phones, each
// completes their grid's part, and the centre sees the parts roll up; a grid worker's steps
// taken offline, concurrent with the centre's close, surface as a conflict to review, in its
// queue and on the order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TEXTS } from "../i18n.js";
import { World, backends, open, until } from "../test_support/harness.mjs";

const ZH = TEXTS["zh-CN"];
const G1 = "320612/004/017/03";
const G2 = "320612/004/017/04";

function dateInDays(n) {
  const d = new Date(Date.now() + n * 86400000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

for (const backend of backends()) {
  test(`tasks roll up and conflicts surface (${backend})`, async (t) => {
    const w = await World.start(backend);
    t.after(() => w.stop());
    await w.areas({
      "320612": "通州区", "320612/004": "金沙街道", "320612/004/017": "幸福社区",
      [G1]: "第三网格", [`${G1}/01`]: "1号楼", [G2]: "第四网格", [`${G2}/01`]: "5号楼",
    });
    const wangFang = await w.person("王芳", [`grid_worker:${G1}`]);
    const liMing = await w.person("李明", [`grid_worker:${G2}`]);
    await w.person("张伟", ["town_operator:320612/004"], { login: "zhangwei" });
    await w.person("李强", ["department_handler:320612/004"], { login: "liqiang", departments: ["sanitation"] });
    const one = await w.device(wangFang, "王芳的手机");
    const two = await w.device(liMing, "李明的手机");
    const centre = await w.signIn("zhangwei");

    await t.test("a town task reaches both grid workers and their parts roll up", async () => {
      await open(centre, "#/tasks");
      await centre.selectOption("#task-area", "320612/004");
      await centre.fill("#task-title", "冬季消防安全排查");
      await centre.fill("#task-instructions", "逐户检查楼道堆物和电动车充电");
      await centre.fill("#task-due", dateInDays(7));
      await centre.click("#task-form button[type=submit]");
      await centre.waitForSelector("#notice:not([hidden])");
      await centre.waitForSelector("#task-list tr[data-id]");
      const taskId = await centre.getAttribute("#task-list tr[data-id]", "data-id");
      assert.equal(await centre.textContent(`#task-list tr[data-id="${taskId}"] .progress`),
        ZH["task.done_of"].replace("{done}", "0").replace("{total}", "2"));
      for (const [phone, note] of [[one, "第三网格已排查完毕"], [two, "第四网格已排查完毕"]]) {
        await phone("sync");
        const tasks = await phone("task", "list");
        assert.ok(JSON.stringify(tasks).includes(taskId), "the task reached the phone");
        await phone("task", "complete", taskId, "--note", note);
        await phone("sync");
      }
      await until(centre, "#/tasks", ([id, want]) =>
        document.querySelector(`#task-list tr[data-id="${id}"] .progress`)?.textContent === want,
      [taskId, ZH["task.done_of"].replace("{done}", "2").replace("{total}", "2")]);
    });

    await t.test("an offline step that lands after the centre's close surfaces for review", async () => {
      const { id } = await one("report", "--area", `${G1}/01`, "--category", "sanitation", "--title", "垃圾桶破损");
      await one("sync");
      await until(centre, `#/order/${id}`, () => !!document.querySelector('form[data-action="accept"]'));
      // Not found until the read model has folded the report: expected while waiting.
      w.pageErrors = w.pageErrors.filter((e) => !/status of 404/.test(e));
      await centre.click('form[data-action="accept"] button[type=submit]');
      await centre.waitForSelector('form[data-action="dispatch"]');
      await centre.selectOption('form[data-action="dispatch"] select[name=department]', "sanitation");
      await centre.click('form[data-action="dispatch"] button[type=submit]');
      await centre.waitForFunction((s) => document.querySelector("#order-state")?.textContent === s, ZH["state.dispatched"]);
      const handler = await w.signIn("liqiang");
      await open(handler, `#/order/${id}`);
      for (const step of ["sign", "feedback"]) {
        await handler.click(`form[data-action="${step}"] button[type=submit]`);
        await handler.waitForSelector(`#timeline li[data-type="${step}"]`);
      }
      await handler.context().close();
      // The grid worker's phone sees it fed back, then verifies and closes while offline …
      await one("sync");
      await one("work-order", "act", id, "verify", "--note", "现场核实已更换");
      await one("work-order", "act", id, "close");
      // … while the centre closes it straight from fed back.
      await open(centre, `#/order/${id}`);
      await centre.click('form[data-action="close"] button[type=submit]');
      await centre.waitForFunction((s) => document.querySelector("#order-state")?.textContent === s, ZH["state.closed"]);
      await one("sync");
      await until(centre, "#/queues/conflicts", (oid) => !!document.querySelector(`tr[data-id="${oid}"]`), id);
      await open(centre, `#/order/${id}`);
      // Whichever way the two offline-concurrent runs of steps are ordered (the same on every
      // replica), one close comes second and cannot apply: it waits for review.
      assert.match(await centre.textContent("#conflicts"), new RegExp(ZH["event.close"]));
      assert.equal(await centre.textContent("#order-state"), ZH["state.closed"]);

      // The centre marks it reviewed: the conflict stays on the record, marked, the order leaves
      // the queue, and there is nothing left to review.
      await centre.click('form[data-action="review_conflicts"] button[type=submit]');
      await centre.waitForSelector('#timeline li[data-type="review_conflicts"]');
      const marks = await centre.$$eval("#conflicts li", (lis) => lis.map((li) => li.dataset.reviewed));
      assert.ok(marks.length >= 1 && marks.every((m) => m === "true"), String(marks));
      assert.match(await centre.textContent("#conflicts"), new RegExp(ZH["order.conflict_reviewed"]));
      assert.equal(await centre.$('form[data-action="review_conflicts"]'), null);
      assert.equal(await centre.textContent("#order-state"), ZH["state.closed"]);
      await until(centre, "#/queues/conflicts", (oid) => !document.querySelector(`tr[data-id="${oid}"]`), id);
      // The grid worker's phone folds the same: the conflict reviewed, the order still closed.
      await one("sync");
      const shown = await one("work-order", "show", id);
      assert.equal(shown.summary.state, "closed");
      // (The phone's offline verify and close both came second: each is a reviewed conflict.)
      assert.deepEqual(shown.summary.conflicts.map((c) => c.reviewed), marks.map(() => true));
    });

    assert.deepEqual(w.pageErrors, []);
  });
}
