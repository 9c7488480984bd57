// Patrols: a grid's patrols of a day — who, when, how long, how far, how many check-ins — and a
// patrol's track drawn as SVG over its check-in points (no map tiles from anywhere).
import { call, query } from "/workbench/api.js";
import { track } from "/workbench/charts.js";
import { el, tr, ui, areaName, personName, fmtTime, showError } from "/workbench/app.js";

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export async function renderPatrols(root) {
  root.append(el("h2", tr("nav.patrols")));
  const form = el("form", null, { id: "patrol-filter", class: "filters" });
  const area = el("select", null, { id: "patrol-area" });
  for (const [path, a] of [...ui.areas].sort()) {
    if (a.in_scope) area.append(el("option", `${a.name} (${path})`, { value: path }));
  }
  const day = el("input", null, { id: "patrol-day", type: "date", value: today() });
  form.append(area, day, el("button", tr("filter.apply"), { type: "submit" }));
  root.append(form);
  const list = el("div", null, { id: "patrol-list" });
  const drawing = el("div", null, { id: "patrol-track" });
  root.append(list, drawing);
  const load = async () => {
    const from = new Date(`${day.value}T00:00:00`);
    const to = new Date(from.getTime() + 24 * 3600 * 1000);
    const page = await call("GET", `/api/v1/patrols${query({ area: area.value, from: from.getTime(), to: to.getTime(), limit: 200 })}`);
    const table = el("table");
    const head = el("tr");
    for (const k of ["patrol.worker", "patrol.started", "patrol.duration", "patrol.distance", "patrol.checkins"]) head.append(el("th", tr(k)));
    table.append(head);
    for (const it of page.items) {
      const p = it.record;
      const r = el("tr", null, { "data-id": it.id });
      const who = el("td");
      const a = el("a", personName(p.worker), { href: "#" });
      a.addEventListener("click", (e) => {
        e.preventDefault();
        drawing.replaceChildren(el("h3", `${personName(p.worker)} · ${areaName(it.area)}`), track(p.track || [], (p.checkins || []).map((c) => c.location), tr("patrol.track")));
      });
      who.append(a);
      r.append(who, el("td", fmtTime(p.started_at)), el("td", tr("patrol.minutes", { n: Math.round((p.duration_s || 0) / 60) })),
        el("td", tr("patrol.km", { n: ((p.stats?.distance_m || 0) / 1000).toFixed(2) })), el("td", String((p.checkins || []).length)));
      table.append(r);
    }
    list.replaceChildren(table);
    list.dataset.count = String(page.items.length);
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); load().catch(showError); });
  if (area.value) await load();
}
