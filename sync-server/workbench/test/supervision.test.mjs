// Automatic supervision in the browser, on each backend, under a test clock: the server judges
// deadlines three hours ahead (GRIDWORK_SUPERVISION_CLOCK_OFFSET_SECS, drills and tests only), so
// an urgent order the centre accepted (2 h deadline) is overdue at once; the system person puts
// it under supervision, the centre hears of it live, and the order shows the step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TEXTS } from "../i18n.js";
import { World, backends, open, until } from "../test_support/harness.mjs";

const ZH = TEXTS["zh-CN"];
const GRID = "320612/004/017/03";

for (const backend of backends()) {
  test(`an overdue order is supervised automatically (${backend})`, async (t) => {
    const w = await World.start(backend, {
      env: { GRIDWORK_SUPERVISION_EVERY_SECS: "1", GRIDWORK_SUPERVISION_CLOCK_OFFSET_SECS: String(3 * 3600) },
    });
    t.after(() => w.stop());
    await w.areas({ "320612": "通州区", "320612/004": "金沙街道", "320612/004/017": "幸福社区",
      [GRID]: "第三网格", [`${GRID}/01`]: "1号楼" });
    const wangFang = await w.person("王芳", [`grid_worker:${GRID}`]);
    await w.person("张伟", ["town_operator:320612/004"], { login: "zhangwei" });
    const phone = await w.device(wangFang, "王芳的手机");
    const { id } = await phone("report", "--area", `${GRID}/01`, "--category", "fire_safety", "--severity", "urgent",
      "--title", "消防通道堵塞");
    await phone("sync");
    const centre = await w.signIn("zhangwei");
    await until(centre, `#/order/${id}`, () => !!document.querySelector('form[data-action="accept"]'));
    w.pageErrors = w.pageErrors.filter((e) => !/status of 404/.test(e));
    // Reported orders have no deadline yet: nothing happens until the centre accepts.
    assert.equal(await centre.$("#order-supervised"), null);
    await centre.click('form[data-action="accept"] button[type=submit]');
    await centre.waitForSelector(`#alerts li[data-order="${id}"][data-kind="supervised"]`, { state: "attached", timeout: 20000 });
    await until(centre, `#/order/${id}`, () => !!document.querySelector("#order-supervised"));
    const step = centre.locator('#timeline li[data-type="escalate"]');
    assert.equal(await step.count(), 1, "supervised once, however many passes ran");
    assert.match(await step.locator(".who").textContent(), new RegExp(ZH["person.system"]));
    // Only supervision runs on the shifted clock: the page still measures on the real one.
    assert.equal(await centre.textContent("#order-supervised"), ZH["order.yes"]);
    await phone("sync");
    const shown = await phone("work-order", "show", id);
    assert.equal(shown.summary.escalated, true, "the phone holds the supervision step");
    assert.deepEqual(w.pageErrors, []);
  });
}
