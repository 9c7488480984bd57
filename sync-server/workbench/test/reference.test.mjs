// Reference data in the browser, on each backend: the district's command centre adds an incident
// category and shortens the urgent deadline; a grid worker's phone (the gridwork CLI) that
// refused the new category before its sync takes a report filed under it after; a town operator
// may read the reference data but not change it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TEXTS } from "../i18n.js";
import { World, backends, open } from "../test_support/harness.mjs";

const ZH = TEXTS["zh-CN"];
const GRID = "320612/004/017/03";

for (const backend of backends()) {
  test(`the district edits its reference data (${backend})`, async (t) => {
    const w = await World.start(backend);
    t.after(() => w.stop());
    await w.areas({ "320612": "通州区", "320612/004": "金沙街道", "320612/004/017": "幸福社区",
      [GRID]: "第三网格", [`${GRID}/01`]: "1号楼" });
    const wangFang = await w.person("王芳", [`grid_worker:${GRID}`]);
    await w.person("刘洋", ["district_centre:320612"], { login: "liuyang" });
    await w.person("张伟", ["town_operator:320612/004"], { login: "zhangwei" });
    const phone = await w.device(wangFang, "王芳的手机");
    await phone("sync");
    const report = () => phone("report", "--area", `${GRID}/01`, "--category", "elevator", "--severity", "urgent",
      "--title", "电梯困人");
    await assert.rejects(report(), "an unknown category is refused before the district adds it");

    await t.test("the district centre adds a category and shortens the urgent deadline", async () => {
      const centre = await w.signIn("liuyang");
      await open(centre, "#/reference");
      await centre.fill('#reference-hours input[name="urgent_hours"]', "1");
      await centre.click("#reference-add-category");
      const row = "#reference-categories tr.category:last-child";
      await centre.fill(`${row} input[name="code"]`, "elevator");
      await centre.fill(`${row} input[name="name_zh"]`, "电梯安全");
      await centre.fill(`${row} input[name="name_en"]`, "Elevator safety");
      await centre.fill('#reference-intervals input[name="rental"]', "45");
      await centre.click("#reference-form button[type=submit]");
      await centre.waitForSelector("#notice:not([hidden])");
      assert.equal(await centre.textContent("#notice"), ZH["reference.saved"]);
      await open(centre, "#/reference");
      assert.equal(await centre.inputValue('#reference-hours input[name="urgent_hours"]'), "1");
      assert.equal(await centre.inputValue('#reference-intervals input[name="rental"]'), "45");
      await centre.context().close();
    });

    await t.test("the phone takes the new category after its sync", async () => {
      await phone("sync");
      const { id } = await report();
      await phone("sync");
      const shown = await phone("work-order", "show", id);
      assert.equal(shown.category, "elevator");
    });

    await t.test("a town operator reads it but may not change it", async () => {
      const town = await w.signIn("zhangwei");
      await open(town, "#/reference");
      await town.click("#reference-form button[type=submit]");
      await town.waitForSelector("#error:not([hidden])");
      assert.equal(await town.getAttribute("#error", "data-code"), "forbidden");
      assert.equal(await town.textContent("#error"), ZH["error.forbidden"]);
      w.pageErrors = w.pageErrors.filter((e) => !(e.startsWith("zhangwei:") && /status of 403/.test(e)));
    });

    assert.deepEqual(w.pageErrors, []);
  });
}
