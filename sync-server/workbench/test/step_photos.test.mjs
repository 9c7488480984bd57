// A step's own photos in the browser, on each backend: a grid worker's phone (the gridwork CLI)
// reports; the town centre's device accepts and dispatches; the department handler's phone signs
// and feeds back with a photo of the finished work, which its sync uploads. The centre's
// workbench shows the photo under the feedback in the order's timeline — a real picture
// Chromium decodes, served by the staff attachment route — and not under any other step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { TEXTS } from "../i18n.js";
import { World, backends, open } from "../test_support/harness.mjs";

const ZH = TEXTS["zh-CN"];
const TOWN = "320612/004";
const GRID = `${TOWN}/017/03`;
const MICRO = `${GRID}/02`;
// A 1×1 PNG: small, and a picture the browser really decodes.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

/** A world where a grid worker's phone reported an order that the town centre's device accepted
 * and dispatched to sanitation; the handler 李强 (web login `liqiang`) serves sanitation. The
 * world stops when test `t` ends. */
async function dispatchedOrder(t, backend) {
  const w = await World.start(backend);
  t.after(() => w.stop());
  await w.areas({
    "320612": "通州区", [TOWN]: "金沙街道", [`${TOWN}/017`]: "幸福社区",
    [GRID]: "幸福社区第三网格", [MICRO]: "3号楼微网格",
  });
  const worker = await w.person("王芳", [`grid_worker:${GRID}`]);
  const operator = await w.person("张伟", [`town_operator:${TOWN}`], { login: "zhangwei" });
  const handler = await w.person("李强", [`department_handler:${TOWN}`], { login: "liqiang", departments: ["sanitation"] });
  const phone = await w.device(worker, "王芳的手机");
  const centre = await w.device(operator, "指挥中心终端");
  const { id } = await phone("report", "--area", MICRO, "--category", "sanitation", "--severity", "ordinary",
    "--title", "楼道垃圾堆放", "--description", "3号楼2单元楼道堆放垃圾");
  await phone("sync");
  await centre("sync");
  await centre("work-order", "act", id, "accept");
  await centre("work-order", "act", id, "dispatch", "--departments", "sanitation");
  await centre("sync");
  return { w, id, phone, handler };
}

for (const backend of backends()) {
  test(`a feedback's photo shows in the order's timeline (${backend})`, async (t) => {
    const { w, id, handler } = await dispatchedOrder(t, backend);
    const handlerPhone = await w.device(handler, "李强的手机");
    await handlerPhone("sync");
    await handlerPhone("work-order", "act", id, "sign", "--departments", "sanitation");
    const file = join(w.dir, "cleared.png");
    writeFileSync(file, PNG);
    const fed = await handlerPhone("work-order", "act", id, "feedback", "--note", "垃圾已清运", "--photo", file);
    assert.equal(fed.summary.state, "fed_back");
    const synced = await handlerPhone("sync");
    assert.equal(synced.photos_uploaded, 1, JSON.stringify(synced));

    const page = await w.signIn("zhangwei");
    await open(page, `#/order/${id}`);
    const hash = createHash("sha256").update(PNG).digest("hex");
    const img = `#timeline li[data-type="feedback"] .photos img[src="/api/v1/attachments/${hash}"]`;
    await page.waitForSelector(img);
    // The bytes arrived: Chromium decoded the picture.
    await page.waitForFunction((sel) => document.querySelector(sel)?.naturalWidth === 1, img);
    assert.equal(await page.getAttribute(img, "alt"), `${ZH["order.photo"]} ${hash.slice(0, 8)}`);
    assert.equal(await page.locator("#timeline .photos img").count(), 1, "only the feedback has a photo");
    assert.equal(await page.locator("#order-photos").count(), 0, "the incident itself has none");
    assert.deepEqual(w.pageErrors, []);
  });
}

for (const backend of backends()) {
  test(`a department handler on the web feeds back with a photo (${backend})`, async (t) => {
    const { w, id, phone } = await dispatchedOrder(t, backend);

    const page = await w.signIn("liqiang");
    await open(page, `#/order/${id}`);
    for (const step of ["sign", "handle"]) {
      await page.click(`form[data-action="${step}"] button[type=submit]`);
      await page.waitForSelector(`#timeline li[data-type="${step}"]`);
    }
    const form = 'form[data-action="feedback"]';
    assert.equal(await page.getAttribute(`${form} input[type=file]`, "aria-label"), ZH["order.add_photos"]);
    await page.fill(`${form} input[name=note]`, "垃圾已清运");
    await page.setInputFiles(`${form} input[type=file]`, { name: "cleared.png", mimeType: "image/png", buffer: PNG });
    await page.click(`${form} button[type=submit]`);
    const hash = createHash("sha256").update(PNG).digest("hex");
    const img = `#timeline li[data-type="feedback"] .photos img[src="/api/v1/attachments/${hash}"]`;
    await page.waitForSelector(img);
    await page.waitForFunction((sel) => document.querySelector(sel)?.naturalWidth === 1, img);
    // The grid worker's phone gets the step with its photo.
    await phone("sync");
    const shown = await phone("work-order", "show", id);
    const feedback = shown.summary.events.find((e) => e.event_type === "feedback");
    assert.deepEqual(feedback.photos, [{ hash, size: PNG.length, mime: "image/png" }]);
    assert.deepEqual(w.pageErrors, []);
  });
}
