// Households: the registry within the person's scope, searched in Chinese or pinyin, filtered by
// tag; a household's residents, visits and incidents. Sensitive data (ID card, health, key
// population, relief) is fetched only when asked for, only for roles that may read it — and
// the server keeps who read it.
import { call, query } from "/workbench/api.js";
import { el, tr, codeText, areaName, personName, fmtTime, showError } from "/workbench/app.js";
import { orderTable } from "/workbench/queues.js";

const TAGS = ["elderly_alone", "difficulty", "relief", "disability", "community_correction", "released_prisoner",
  "drug_rehab", "mental_disorder", "rental", "group_rental", "ordinary"];

export async function renderHouseholds(root, [id]) {
  if (id) return renderHousehold(root, id);
  root.append(el("h2", tr("nav.households")));
  const form = el("form", null, { id: "household-filter", class: "filters" });
  const q = el("input", null, { id: "household-q", type: "search", maxlength: "64", placeholder: tr("household.search") });
  const tag = el("select", null, { id: "household-tag" });
  tag.append(el("option", tr("household.any_tag"), { value: "" }));
  for (const t of TAGS) tag.append(el("option", codeText("tag", t), { value: t }));
  form.append(q, tag, el("button", tr("filter.apply"), { type: "submit" }));
  root.append(form);
  const list = el("div", null, { id: "household-list" });
  root.append(list);
  const load = async () => {
    const page = await call("GET", `/api/v1/households${query({ q: q.value.trim(), tag: tag.value, limit: 100 })}`);
    const table = el("table");
    const head = el("tr");
    for (const k of ["household.head", "household.address", "household.tags", "col.area"]) head.append(el("th", tr(k)));
    table.append(head);
    for (const it of page.items) {
      const h = it.record;
      const r = el("tr", null, { "data-id": it.id });
      const name = el("td");
      name.append(el("a", h.head_name, { href: `#/households/${it.id}` }));
      r.append(name, el("td", h.address), el("td", (h.tags || []).map((t) => codeText("tag", t)).join("、")), el("td", areaName(it.area)));
      table.append(r);
    }
    list.replaceChildren(table);
    list.dataset.count = String(page.items.length);
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); load().catch(showError); });
  await load();
}

async function renderHousehold(root, id) {
  const [item, residents, visits, orders] = await Promise.all([
    call("GET", `/api/v1/households/${id}`),
    call("GET", `/api/v1/residents${query({ household: id, limit: 100 })}`),
    call("GET", `/api/v1/visits${query({ household: id, order: "desc", limit: 50 })}`),
    call("GET", `/api/v1/work-orders${query({ household: id, order: "desc", limit: 50 })}`).catch(() => ({ items: [] })),
  ]);
  const h = item.record;
  root.append(el("h2", `${h.head_name} · ${h.address}`, { id: "household-title" }));
  const dl = el("dl", null, { class: "facts" });
  const row = (k, v) => dl.append(el("dt", tr(k)), el("dd", v));
  row("col.area", areaName(item.area));
  row("household.tags", (h.tags || []).map((t) => codeText("tag", t)).join("、") || "—");
  row("household.members", String(h.member_count));
  row("household.last_visit", fmtTime(h.last_visit_at));
  row("household.next_due", fmtTime(h.next_due_at));
  root.append(dl);

  root.append(el("h3", tr("household.residents")));
  const ul = el("ul", null, { id: "residents" });
  for (const it of residents.items) {
    const li = el("li", null, { "data-id": it.id });
    li.append(el("span", `${it.record.name} · ${codeText("relation", it.record.relation)}`));
    const show = el("button", tr("household.show_sensitive"), { type: "button", class: "sensitive" });
    show.addEventListener("click", async () => {
      try {
        const s = (await call("GET", `/api/v1/residents/${it.id}/sensitive`)).record;
        const box = el("span", null, { class: "sensitive-data" });
        box.append(el("span", ` ${tr("sensitive.id_card")} ${s.id_card || "—"}`));
        box.append(el("span", ` ${tr("sensitive.health")} ${s.health || "—"}`));
        if (s.key_population) box.append(el("span", ` ${tr("sensitive.key_population")} ${codeText("key_population", s.key_population)}`));
        show.replaceWith(box);
      } catch (e) {
        showError(e);
      }
    });
    li.append(show);
    ul.append(li);
  }
  root.append(ul);

  root.append(el("h3", tr("household.visits")));
  const vt = el("table", null, { id: "visits" });
  for (const it of visits.items) {
    const v = it.record;
    const r = el("tr");
    r.append(el("td", fmtTime(v.visited_at)), el("td", personName(v.visitor)), el("td", codeText("outcome", v.outcome)), el("td", v.situation));
    vt.append(r);
  }
  root.append(vt);
  root.append(el("h3", tr("household.incidents")), orderTable(orders.items));
}
