// "Today": open work orders by severity, category and town × state, the overdue ones first,
// what was reported in the last 24 hours, tasks falling due, and how many wait in each queue.
import { call, query } from "/workbench/api.js";
import { bars, matrix } from "/workbench/charts.js";
import { el, tr, codeText, areaName } from "/workbench/app.js";
import { orderTable } from "/workbench/queues.js";

const SEVERITIES = ["urgent", "important", "ordinary"];
const STATES = ["reported", "accepted", "dispatched", "signed", "handling", "fed_back", "verified", "returned"];

function figure(id, label, value) {
  const d = el("div", null, { class: "figure", id });
  d.append(el("strong", value), el("span", label));
  return d;
}

export async function renderToday(root) {
  const s = await call("GET", "/api/v1/work-orders/stats");
  root.append(el("h2", tr("today.heading")));
  const figs = el("div", null, { class: "figures" });
  figs.append(
    figure("fig-open", tr("today.open"), s.open),
    figure("fig-overdue", tr("today.overdue"), s.overdue),
    figure("fig-reported", tr("today.reported"), s.reported_since),
    figure("fig-tasks", tr("today.tasks_due"), s.tasks_due),
  );
  root.append(figs);

  const charts = el("div", null, { class: "charts" });
  const sev = el("section", null, { id: "chart-severity" });
  sev.append(el("h3", tr("today.by_severity")), bars(SEVERITIES.map((k) => ({
    key: k, label: codeText("severity", k), value: s.by_severity[k] || 0, cls: `bar sev-${k}`,
  })), tr("today.by_severity")));
  const cat = el("section", null, { id: "chart-category" });
  const cats = Object.entries(s.by_category).sort((a, b) => b[1] - a[1]);
  cat.append(el("h3", tr("today.by_category")), bars(cats.map(([k, v]) => ({
    key: k, label: codeText("category", k), value: v,
  })), tr("today.by_category")));
  charts.append(sev, cat);
  root.append(charts);

  const towns = Object.keys(s.by_town).sort();
  const mx = el("section", null, { id: "chart-matrix" });
  mx.append(el("h3", tr("today.matrix")));
  if (towns.length) {
    mx.append(matrix(
      towns.map((t) => ({ key: t, label: areaName(t) })),
      STATES.map((st) => ({ key: st, label: codeText("state", st) })),
      (t, st) => s.by_town[t]?.[st] || 0, tr("today.matrix"),
    ));
  } else {
    mx.append(el("p", tr("today.none")));
  }
  root.append(mx);

  const q = el("section", null, { id: "queue-counts" });
  q.append(el("h3", tr("nav.queues")));
  const ul = el("ul", null, { class: "queue-counts" });
  for (const [code, n] of Object.entries(s.queues)) {
    const li = el("li", null, { "data-queue": code });
    li.append(el("a", `${codeText("queue", code)} ${n}`, { href: `#/queues/${code}` }));
    ul.append(li);
  }
  q.append(ul);
  root.append(q);

  const overdue = await call("GET", `/api/v1/work-orders${query({ overdue: true, limit: 20 })}`);
  const od = el("section", null, { id: "overdue" });
  od.append(el("h3", tr("today.overdue_list")), orderTable(overdue.items));
  root.append(od);
}
