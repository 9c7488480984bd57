// A work order: its incident (title, description, category, severity, place, photos, household
// or patrol), the whole event timeline (who, in which role, when by the device's clock and by
// the server's), waiting extension requests, conflicting steps, and the steps the signed-in
// person may take now — offered by the server (`/allowed`, the core's own rule) and sent to the
// actions API, which authors the change phones receive by pull.
import { call } from "/workbench/api.js";
import { el, tr, codeText, areaName, deptName, personName, fmtTime, showError, showNotice, route } from "/workbench/app.js";

function row(dl, label, value, id) {
  dl.append(el("dt", label), el("dd", value, id ? { id } : {}));
}

/** Thumbnails of `photos`; the full picture opens on click (served only to people whose scope
 * holds this order). */
function photoStrip(photos, id) {
  const strip = el("div", null, { class: "photos", ...(id ? { id } : {}) });
  for (const p of photos) {
    const src = `/api/v1/attachments/${p.hash}`;
    const a = el("a", null, { href: src, target: "_blank", rel: "noopener", class: "photo" });
    a.append(el("img", null, { src, alt: `${tr("order.photo")} ${p.hash.slice(0, 8)}`, loading: "lazy", width: "160" }));
    strip.append(a);
  }
  return strip;
}

function timeline(events) {
  const ol = el("ol", null, { id: "timeline", class: "timeline" });
  for (const e of events) {
    const li = el("li", null, { "data-type": e.event_type });
    li.append(el("strong", codeText("event", e.event_type)));
    li.append(el("span", ` ${personName(e.by)} · ${codeText("role", e.role)}`, { class: "who" }));
    if (e.department) li.append(el("span", ` · ${deptName(e.department)}`, { class: "dept" }));
    const when = el("div", null, { class: "when" });
    when.append(el("span", `${tr("order.device_time")} ${fmtTime(e.at)}`));
    when.append(el("span", ` · ${tr("order.server_time")} ${fmtTime(e.received_at)}`));
    li.append(when);
    if (e.note) li.append(el("p", e.note, { class: "note" }));
    if (e.satisfaction) li.append(el("p", `${tr("order.satisfaction")} ${e.satisfaction}/5`));
    if (e.extension_hours) li.append(el("p", tr("order.extension_hours", { hours: e.extension_hours })));
    // The step's own photos: the finished work with a feedback, what a verify found.
    if (e.photos?.length) li.append(photoStrip(e.photos));
    ol.append(li);
  }
  return ol;
}

/** Steps that show something done or found, so may carry photos of it. */
const PHOTO_STEPS = new Set(["handle", "feedback", "verify", "return"]);

/** A picked file's bytes, base64 (what the actions API takes inside its JSON). */
function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The form for one allowed step: department, note, hours, satisfaction or photos as the step
 * needs. */
function actionForm(id, action) {
  const form = el("form", null, { class: "action", "data-action": action.type });
  form.append(el("h4", codeText("action", action.type)));
  let dept = null;
  if (action.departments.length) {
    dept = el("select", null, { name: "department" });
    for (const d of action.departments) dept.append(el("option", deptName(d), { value: d }));
    form.append(dept);
  }
  let hours = null;
  if (action.type === "request_extension") {
    hours = el("input", null, { name: "extension_hours", type: "number", min: "1", max: "8784", value: "24", required: "" });
    form.append(hours);
  }
  let score = null;
  if (action.type === "verify") {
    score = el("select", null, { name: "satisfaction" });
    score.append(el("option", tr("order.no_satisfaction"), { value: "" }));
    for (const n of [5, 4, 3, 2, 1]) score.append(el("option", codeText("satisfaction", n), { value: String(n) }));
    form.append(score);
  }
  const note = el("input", null, { name: "note", maxlength: "2000", placeholder: tr("order.note") });
  let photos = null;
  if (PHOTO_STEPS.has(action.type)) {
    photos = el("input", null, { name: "photos", type: "file", accept: "image/*", multiple: "", title: tr("order.add_photos"), "aria-label": tr("order.add_photos") });
  }
  const submit = el("button", codeText("action", action.type), { type: "submit" });
  form.append(note);
  if (photos) form.append(photos);
  form.append(submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    // A second click while the first is on its way sends nothing.
    if (submit.disabled) return;
    submit.disabled = true;
    const body = { type: action.type };
    if (dept) body.department = dept.value;
    if (hours) body.extension_hours = Number(hours.value);
    if (score && score.value) body.satisfaction = Number(score.value);
    if (note.value.trim()) body.note = note.value.trim();
    try {
      if (photos?.files.length) {
        showNotice(tr("order.reading_photos"));
        body.photos = await Promise.all([...photos.files].map(async (f) => ({
          mime: f.type || "application/octet-stream", content_base64: await base64Of(f),
        })));
      }
      await call("POST", `/api/v1/work-orders/${id}/actions`, body);
      await route();
      showNotice(tr("order.done", { action: codeText("action", action.type) }));
    } catch (e) {
      submit.disabled = false;
      showError(e);
    }
  });
  return form;
}

export async function renderOrder(root, [id]) {
  const [item, allowed] = await Promise.all([
    call("GET", `/api/v1/work-orders/${id}`), call("GET", `/api/v1/work-orders/${id}/allowed`),
  ]);
  const r = item.record, s = r.summary;
  root.dataset.id = id;
  root.append(el("h2", r.title, { id: "order-title" }));
  const dl = el("dl", null, { class: "facts" });
  row(dl, tr("col.state"), codeText("state", s.state), "order-state");
  row(dl, tr("col.severity"), codeText("severity", s.severity), "order-severity");
  row(dl, tr("col.category"), codeText("category", r.category));
  row(dl, tr("col.area"), areaName(r.area));
  row(dl, tr("col.source"), codeText("source", r.source));
  row(dl, tr("col.reporter"), personName(s.reporter));
  row(dl, tr("col.deadline"), `${fmtTime(s.deadline)}${s.overdue ? ` · ${tr("order.overdue")}` : ""}`, "order-deadline");
  row(dl, tr("col.departments"), Object.entries(s.departments).map(([d, p]) => `${deptName(d)}: ${codeText("state", p)}`).join("; ") || "—", "order-departments");
  if (s.escalated) row(dl, tr("order.supervised"), tr("order.yes"), "order-supervised");
  if (s.satisfaction) row(dl, tr("order.satisfaction"), `${s.satisfaction}/5`, "order-satisfaction");
  if (r.location) row(dl, tr("col.location"), `${r.location.lat.toFixed(5)}, ${r.location.lon.toFixed(5)}`);
  if (r.household_id) row(dl, tr("col.household"), r.household_id);
  if (r.patrol_id) row(dl, tr("col.patrol"), r.patrol_id);
  root.append(dl);
  if (r.description) root.append(el("p", r.description, { id: "order-description", class: "description" }));
  if (r.photos?.length) root.append(photoStrip(r.photos, "order-photos"));
  if (s.pending_extensions?.length) {
    const ul = el("ul", null, { id: "pending-extensions" });
    for (const p of s.pending_extensions) ul.append(el("li", `${deptName(p.department)}: ${tr("order.extension_hours", { hours: p.hours })}`));
    root.append(el("h3", tr("queue.extensions")), ul);
  }
  if (s.conflicts?.length) {
    const ul = el("ul", null, { id: "conflicts" });
    for (const c of s.conflicts) {
      const mark = c.reviewed ? ` · ${tr("order.conflict_reviewed")}` : "";
      const li = el("li", `${codeText("event", c.event_type)} · ${personName(c.by)} · ${fmtTime(c.at)} · ${codeText("error", c.code)}${mark}`);
      li.dataset.reviewed = String(Boolean(c.reviewed));
      ul.append(li);
    }
    root.append(el("h3", tr("queue.conflicts")), ul);
  }
  const acts = el("section", null, { id: "actions" });
  acts.append(el("h3", tr("order.actions")));
  if (!allowed.length) acts.append(el("p", tr("order.no_actions")));
  for (const a of allowed) acts.append(actionForm(id, a));
  root.append(acts);
  root.append(el("h3", tr("order.timeline")), timeline(s.events));
}
