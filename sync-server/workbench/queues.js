// The work queues: to accept, to dispatch, my department's to sign for and to handle, to
// verify, to close, returned, extension requests, conflicting steps, supervised — each a page of
// the work-order list filtered by the server (`?queue=`), with severity, category and search.
import { call, query } from "/workbench/api.js";
import { el, tr, codeText, areaName, fmtTime, ui } from "/workbench/app.js";

const QUEUES = ["to_accept", "to_dispatch", "to_sign", "to_handle", "to_verify", "to_close",
  "returned", "extensions", "conflicts", "supervised"];

/** A table of work orders (query API items), each row linking to its detail. */
export function orderTable(items) {
  const table = el("table", null, { class: "orders" });
  const head = el("tr");
  for (const k of ["col.title", "col.severity", "col.state", "col.area", "col.deadline"]) head.append(el("th", tr(k)));
  table.append(el("thead"));
  table.tHead.append(head);
  const body = el("tbody");
  for (const it of items) {
    const r = it.record, s = r.summary;
    const tr_ = el("tr", null, { "data-id": it.id, class: s.overdue ? "overdue" : "" });
    const title = el("td");
    title.append(el("a", r.title, { href: `#/order/${it.id}` }));
    tr_.append(title, el("td", codeText("severity", s.severity), { class: `sev-${s.severity}` }),
      el("td", codeText("state", s.state)), el("td", areaName(it.area)),
      el("td", `${fmtTime(s.deadline)}${s.overdue ? ` · ${tr("order.overdue")}` : ""}`));
    body.append(tr_);
  }
  table.append(body);
  if (!items.length) {
    const none = el("tr");
    none.append(el("td", tr("queue.empty"), { colspan: "5" }));
    body.append(none);
  }
  return table;
}

export async function renderQueues(root, [queue = ui.mine.length ? "to_sign" : "to_accept"]) {
  root.append(el("h2", tr("nav.queues")));
  const tabs = el("nav", null, { class: "tabs" });
  for (const q of QUEUES) {
    const a = el("a", codeText("queue", q), { href: `#/queues/${q}`, "data-queue": q });
    if (q === queue) a.classList.add("active");
    tabs.append(a);
  }
  root.append(tabs);
  const form = el("form", null, { id: "queue-filter", class: "filters" });
  const sev = el("select", null, { id: "filter-severity" });
  sev.append(el("option", tr("filter.any_severity"), { value: "" }));
  for (const s of ["urgent", "important", "ordinary"]) sev.append(el("option", codeText("severity", s), { value: s }));
  const text = el("input", null, { id: "filter-q", type: "search", maxlength: "64", placeholder: tr("filter.search") });
  form.append(sev, text, el("button", tr("filter.apply"), { type: "submit" }));
  root.append(form);
  const list = el("div", null, { id: "queue-list" });
  root.append(list);
  const more = el("button", tr("queue.more"), { id: "queue-more", type: "button", hidden: "" });
  root.append(more);
  let cursor = null;
  let rows = [];
  const load = async (reset) => {
    if (reset) { cursor = null; rows = []; }
    const page = await call("GET", `/api/v1/work-orders${query({
      queue, severity: sev.value, q: text.value.trim(), limit: 50, order: "desc", cursor,
    })}`);
    rows = rows.concat(page.items);
    cursor = page.next_cursor;
    list.replaceChildren(orderTable(rows));
    more.hidden = !cursor;
    list.dataset.count = String(rows.length);
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); load(true).catch((err) => list.replaceChildren(el("p", err.code))); });
  more.addEventListener("click", () => load(false));
  await load(true);
}
