// Tasks: issue one to an area (any level; it reaches every grid inside) with instructions and a
// due date, and follow the open ones — each grid's part arrives from its worker's phone.
import { call, query } from "/workbench/api.js";
import { el, tr, ui, areaName, fmtTime, showError, showNotice, route } from "/workbench/app.js";

export async function renderTasks(root) {
  root.append(el("h2", tr("nav.tasks")));
  const form = el("form", null, { id: "task-form", class: "stack" });
  const area = el("select", null, { id: "task-area", required: "" });
  for (const [path, a] of [...ui.areas].sort()) {
    if (a.in_scope) area.append(el("option", `${a.name} (${path})`, { value: path }));
  }
  const title = el("input", null, { id: "task-title", required: "", maxlength: "200", placeholder: tr("task.title") });
  const instructions = el("textarea", null, { id: "task-instructions", maxlength: "4000", placeholder: tr("task.instructions") });
  const due = el("input", null, { id: "task-due", type: "date", required: "" });
  const submit = el("button", tr("task.issue"), { type: "submit" });
  form.append(area, title, instructions, due, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    try {
      const dueAt = new Date(`${due.value}T23:59:59`).toISOString();
      await call("POST", "/api/v1/tasks", {
        area: area.value, title: title.value.trim(), instructions: instructions.value.trim(), households: [], due_at: dueAt, assignee: null,
      });
      await route();
      showNotice(tr("task.issued"));
    } catch (e) {
      submit.disabled = false;
      showError(e);
    }
  });
  root.append(form);
  const page = await call("GET", `/api/v1/tasks${query({ open: true, order: "desc", limit: 100 })}`);
  const table = el("table", null, { id: "task-list" });
  const head = el("tr");
  for (const k of ["task.title", "col.area", "task.due", "task.progress"]) head.append(el("th", tr(k)));
  table.append(head);
  for (const it of page.items) {
    const t = it.record;
    // Each grid (level 4: district/town/community/grid) inside the task's area does its part.
    const grids = [...ui.areas.keys()].filter((p) => p.split("/").length === 4 && (p === it.area || p.startsWith(`${it.area}/`)));
    const progress = t.progress || [];
    const done = progress.length;
    const r = el("tr", null, { "data-id": it.id });
    r.append(el("td", t.title), el("td", areaName(it.area)), el("td", fmtTime(t.due_at)),
      el("td", tr("task.done_of", { done, total: Math.max(grids.length, done) }), { class: "progress" }));
    table.append(r);
  }
  root.append(table);
}
