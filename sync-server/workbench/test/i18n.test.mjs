// Every text of the workbench exists in both languages, and every key the pages use is in the
// tables: a missing one would show as ⟦key⟧ (the browser tests also look for that on screen).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { TEXTS, LANGS } from "../i18n.js";

const HERE = join(dirname(fileURLToPath(import.meta.url)), "..");

test("both languages hold the same keys, none empty", () => {
  const [zh, en] = LANGS.map((l) => TEXTS[l]);
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const l of LANGS) {
    for (const [k, v] of Object.entries(TEXTS[l])) assert.ok(v.trim(), `${l} ${k} is empty`);
  }
});

test("every key the page names is translated", () => {
  const used = new Set();
  for (const f of readdirSync(HERE).filter((f) => f.endsWith(".js") && f !== "i18n.js")) {
    const src = readFileSync(join(HERE, f), "utf8");
    for (const m of src.matchAll(/\btr\("([a-z_.]+)"/g)) used.add(m[1]);
    for (const m of src.matchAll(/"((?:col|task|household|patrol|reference)\.[a-z_]+)"/g)) used.add(m[1]);
  }
  for (const m of readFileSync(join(HERE, "index.html"), "utf8").matchAll(/data-i18n="([a-z_.]+)"/g)) used.add(m[1]);
  assert.ok(used.size > 40, `found ${used.size} keys`);
  for (const k of used) {
    for (const l of LANGS) assert.ok(k in TEXTS[l], `${k} missing in ${l}`);
  }
});
