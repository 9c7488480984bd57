// Reference data the district configures (DOMAIN.md: defaults, not constants): incident
// categories, severity deadlines and the overdue escalation threshold, household tags' visit
// intervals. Saved as one server-authored change of the district's reference record, which every
// phone receives with its next sync and uses instead of the defaults. Departments are listed
// here; the sync admin keeps the registry (console, 部门).
import { call } from "/workbench/api.js";
import { el, tr, codeText, deptName, showError, showNotice, route, ui } from "/workbench/app.js";

const TAGS = ["elderly_alone", "difficulty", "relief", "disability", "community_correction", "released_prisoner",
  "drug_rehab", "mental_disorder", "rental", "group_rental", "ordinary"];
const HOURS = ["urgent_hours", "important_hours", "ordinary_hours", "escalate_after_hours"];

function categoryRow(c = { code: "", name_zh: "", name_en: "", retired: false }) {
  const r = el("tr", null, { class: "category" });
  const cell = (name, value, attrs = {}) => {
    const td = el("td");
    td.append(el("input", null, { name, value, maxlength: "64", ...attrs }));
    return td;
  };
  r.append(
    cell("code", c.code, c.code ? { readonly: "" } : { pattern: "[a-z0-9_]+", required: "" }),
    cell("name_zh", c.name_zh, { required: "" }),
    cell("name_en", c.name_en, { required: "" }),
  );
  const retired = el("td");
  const box = el("input", null, { type: "checkbox", name: "retired" });
  box.checked = !!c.retired;
  retired.append(box);
  r.append(retired);
  return r;
}

export async function renderReference(root) {
  const ref = await call("GET", "/api/v1/reference");
  const d = ref.data;
  root.append(el("h2", tr("nav.reference")));
  const form = el("form", null, { id: "reference-form", class: "stack" });

  form.append(el("h3", tr("reference.deadlines")));
  const hours = el("div", null, { class: "filters", id: "reference-hours" });
  for (const k of HOURS) {
    const label = el("label", tr(`reference.${k}`));
    label.append(el("input", null, { type: "number", min: "1", max: "8784", name: k, value: String(d.deadline_policy[k] ?? 24), required: "" }));
    hours.append(label);
  }
  form.append(hours);

  form.append(el("h3", tr("reference.categories")));
  const cats = el("table", null, { id: "reference-categories" });
  const head = el("tr");
  for (const k of ["reference.code", "reference.name_zh", "reference.name_en", "reference.retired"]) head.append(el("th", tr(k)));
  cats.append(head);
  for (const c of d.categories) cats.append(categoryRow(c));
  const add = el("button", tr("reference.add_category"), { type: "button", id: "reference-add-category" });
  add.addEventListener("click", () => cats.append(categoryRow()));
  form.append(cats, add);

  form.append(el("h3", tr("reference.intervals")));
  const intervals = el("div", null, { class: "filters", id: "reference-intervals" });
  const days = new Map(d.tag_intervals.map((t) => [t.tag, t.days]));
  for (const tag of TAGS) {
    const label = el("label", codeText("tag", tag));
    label.append(el("input", null, { type: "number", min: "1", max: "365", name: tag, value: days.has(tag) ? String(days.get(tag)) : "", placeholder: tr("reference.default") }));
    intervals.append(label);
  }
  form.append(intervals);

  form.append(el("h3", tr("reference.departments")));
  const deps = el("ul", null, { id: "reference-departments" });
  for (const dep of d.departments) deps.append(el("li", `${deptName(dep.code)} (${dep.code})${dep.active === false ? ` · ${tr("reference.retired")}` : ""}`));
  form.append(deps);

  const save = el("button", tr("reference.save"), { type: "submit" });
  form.append(save);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (save.disabled) return;
    const body = {
      categories: [...cats.querySelectorAll("tr.category")].map((r) => ({
        code: r.querySelector("[name=code]").value.trim(),
        name_zh: r.querySelector("[name=name_zh]").value.trim(),
        name_en: r.querySelector("[name=name_en]").value.trim(),
        retired: r.querySelector("[name=retired]").checked,
      })).filter((c) => c.code),
      deadline_policy: Object.fromEntries(HOURS.map((k) => [k, Number(hours.querySelector(`[name=${k}]`).value)])),
      tag_intervals: TAGS.map((tag) => ({ tag, days: intervals.querySelector(`[name=${tag}]`).value }))
        .filter((t) => t.days !== "").map((t) => ({ tag: t.tag, days: Number(t.days) })),
    };
    save.disabled = true;
    try {
      await call("PUT", "/api/v1/reference", body);
      ui.reference = null;
      await route();
      showNotice(tr("reference.saved"));
    } catch (e) {
      save.disabled = false;
      showError(e);
    }
  });
  root.append(form);
}
