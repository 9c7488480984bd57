// The registry in the browser, on each backend: households a grid worker's phone (the gridwork
// CLI) registered and visited are found by the town centre in Chinese and in pinyin, with their
// visits; a grid worker's web view holds their grid only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TEXTS } from "../i18n.js";
import { World, backends, open, until } from "../test_support/harness.mjs";

const GRID = "320612/004/017/03";
const MICRO = `${GRID}/02`;
const OTHER = "320612/004/018/01/01";

for (const backend of backends()) {
  test(`households in the workbench (${backend})`, async (t) => {
    const w = await World.start(backend);
    t.after(() => w.stop());
    await w.areas({
      "320612": "通州区", "320612/004": "金沙街道", "320612/004/017": "幸福社区", [GRID]: "第三网格",
      [MICRO]: "3号楼", "320612/004/018": "和平社区", "320612/004/018/01": "第一网格", [OTHER]: "1号楼",
    });
    const wangFang = await w.person("王芳", [`grid_worker:${GRID}`], { login: "wangfang" });
    const liMing = await w.person("李明", ["grid_worker:320612/004/018/01"]);
    await w.person("张伟", ["town_operator:320612/004"], { login: "zhangwei" });
    const phone = await w.device(wangFang, "王芳的手机");
    const other = await w.device(liMing, "李明的手机");
    const { id } = await phone("household", "add", "--area", MICRO, "--address", "幸福小区3幢2单元301室",
      "--head", "王秀英", "--members", "1", "--tag", "elderly_alone");
    await phone("visit", "--household", id, "--situation", "身体状况良好，叮嘱冬季用电安全", "--satisfaction", "5");
    await phone("sync");
    const { id: elsewhere } = await other("household", "add", "--area", OTHER, "--address", "和平路8号",
      "--head", "王建国", "--members", "3");
    await other("sync");

    const centre = await w.signIn("zhangwei");
    await t.test("the centre finds a household in Chinese and in pinyin, with its visit", async () => {
      await until(centre, "#/households", (hid) => !!document.querySelector(`#household-list tr[data-id="${hid}"]`), id);
      for (const q of ["王秀英", "wangxiuying", "wxy", "3幢"]) {
        await centre.fill("#household-q", q);
        await centre.click("#household-filter button[type=submit]");
        await centre.waitForFunction((hid) => !!document.querySelector(`#household-list tr[data-id="${hid}"]`), id);
      }
      await centre.selectOption("#household-tag", "rental");
      await centre.fill("#household-q", "");
      await centre.click("#household-filter button[type=submit]");
      await centre.waitForFunction(() => document.querySelector("#household-list").dataset.count === "0");
      await open(centre, `#/households/${id}`);
      assert.match(await centre.textContent("#household-title"), /王秀英/);
      assert.match(await centre.textContent("#visits"), /身体状况良好/);
      assert.match(await centre.textContent("#visits"), /王芳/);
      assert.match(await centre.textContent(".facts"), new RegExp(TEXTS["zh-CN"]["tag.elderly_alone"]));
    });

    await t.test("a grid worker's web view holds their own grid only", async () => {
      const worker = await w.signIn("wangfang");
      await until(worker, "#/households", (hid) => !!document.querySelector(`#household-list tr[data-id="${hid}"]`), id);
      assert.equal(await worker.$(`#household-list tr[data-id="${elsewhere}"]`), null);
      await open(worker, `#/households/${elsewhere}`);
      assert.equal(await worker.getAttribute("#error", "data-code"), "not_found");
      w.pageErrors = w.pageErrors.filter((e) => !(e.startsWith("wangfang:") && /status of 404/.test(e)));
      await worker.context().close();
    });

    assert.deepEqual(w.pageErrors, []);
  });
}
