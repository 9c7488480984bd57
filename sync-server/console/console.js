// The sync admin console: a static page over the admin API (/admin/v1). A sync admin signs in
// with their staff account (a session cookie the page never sees, and the session's CSRF token
// sent with every change) or, for automation, the admin token, kept in sessionStorage (this tab
// only). It renders every value with textContent (no HTML from data), and shows every text in
// zh-CN or English.
import { LANGS, t } from "/console/i18n.js";

const STALE_MS = 3 * 24 * 3600 * 1000;
const ROLES = ["liaison", "grid_worker", "grid_head", "town_operator", "district_centre",
  "department_handler", "sync_admin"];

const state = {
  lang: localStorage.getItem("gridwork.lang") || (navigator.language.startsWith("zh") ? "zh-CN" : "en"),
  token: sessionStorage.getItem("gridwork.token") || "",
  // The staff session's CSRF token when signed in with a staff account ("" otherwise).
  csrf: "",
  view: "health",
  users: new Map(),
  devices: new Map(),
};

const $ = (sel) => document.querySelector(sel);

/** An element with text and attributes. */
function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function tr(key, params) { return t(state.lang, key, params); }

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toLocaleString(state.lang, { hour12: false });
}

function showError(message) {
  const p = $("#error");
  p.textContent = message;
  p.hidden = !message;
  if (message) $("#notice").hidden = true;
}

function showNotice(message) {
  const p = $("#notice");
  p.textContent = message;
  p.hidden = !message;
  if (message) $("#error").hidden = true;
}

/** Errors with their own localised text; the others show the server's message. */
const KNOWN_ERRORS = ["bad_credential", "missing_credential", "login_failed", "login_throttled",
  "forbidden", "weak_password", "wrong_password", "session_expired", "session_invalid",
  "admin_token_disabled"];
/** Errors after which the console signs out. */
const SIGNED_OUT = ["bad_credential", "missing_credential", "session_expired", "session_invalid",
  "session_missing", "admin_token_disabled"];

/** Calls the server at `url` with the admin token or the session's CSRF token; throws an Error
 * whose message is already localised. */
async function call(method, url, body) {
  const headers = body ? { "Content-Type": "application/json" } : {};
  if (state.csrf) {
    if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  } else if (state.token) {
    headers.Authorization = `Bearer ${state.token}`;
  }
  let res;
  try {
    res = await fetch(url, {
      method, headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new Error(tr("error.network"));
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const code = data?.error?.code || String(res.status);
    const err = new Error(KNOWN_ERRORS.includes(code)
      ? tr(`error.${code}`)
      : tr("error.other", { message: data?.error?.message || res.statusText }));
    err.code = code;
    throw err;
  }
  return data;
}

/** Calls the admin API. */
function api(method, path, body) { return call(method, `/admin/v1${path}`, body); }

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = tr("title");
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = tr(node.dataset.i18n);
  }
  $("#lang").value = state.lang;
  const roleSelect = $("#user-role");
  const chosen = roleSelect.value || "grid_worker";
  roleSelect.replaceChildren(...ROLES.map((r) => el("option", tr(`role.${r}`), { value: r })));
  roleSelect.value = chosen;
}

function userName(id) { return state.users.get(id)?.name ?? id ?? "—"; }
function deviceName(id) { return state.devices.get(id)?.name ?? id ?? "—"; }

function deviceState(d, now) {
  if (d.revoked) return "revoked";
  if (d.last_seen === null || d.last_seen === undefined) return "never";
  return now - d.last_seen > STALE_MS ? "stale" : "active";
}

async function loadPeople() {
  const [{ users }, { devices }] = await Promise.all([api("GET", "/users"), api("GET", "/devices")]);
  state.users = new Map(users.map((u) => [u.id, u]));
  state.devices = new Map(devices.map((d) => [d.id, d]));
}

async function renderHealth() {
  const h = await api("GET", "/sync-health");
  const active = h.devices.filter((d) => !d.revoked);
  $("#stat-head").textContent = h.head_seq;
  $("#stat-changes").textContent = h.changes;
  $("#stat-devices").textContent = active.length;
  $("#stat-stale").textContent = active.filter((d) => deviceState(d, h.now) !== "active").length;
  $("#health-table tbody").replaceChildren(...h.devices.map((d) => {
    const s = deviceState(d, h.now);
    const row = el("tr", null, { class: s, "data-device": d.device_id });
    row.append(el("td", d.name), el("td", userName(d.user_id)), el("td", fmtTime(d.last_seen)),
      el("td", d.cursor), el("td", d.cursor_lag), el("td", tr(`state.${s}`)));
    return row;
  }));
  // The latest 12345 reconciliation of each platform (docs/12345-exchange.md); the device
  // table above does not wait for it.
  const rec = await api("GET", "/hotline/reconciliation");
  $("#stat-hotline").textContent = rec.latest.reduce((n, l) => n + l.mismatches.length, 0);
}

async function renderDevices() {
  const now = Date.now();
  $("#devices-table tbody").replaceChildren(...[...state.devices.values()].map((d) => {
    const s = deviceState(d, now);
    const row = el("tr", null, { class: s, "data-device": d.id });
    const action = el("td");
    if (!d.revoked) {
      const b = el("button", tr("devices.revoke"), { class: "danger" });
      b.addEventListener("click", () => revoke(d));
      action.append(b);
    }
    row.append(el("td", d.name), el("td", userName(d.user_id)), el("td", fmtTime(d.enrolled_at)),
      el("td", fmtTime(d.last_seen)), el("td", tr(`state.${s}`)), action);
    return row;
  }));
}

async function revoke(d) {
  if (!window.confirm(tr("devices.confirm", { name: d.name }))) return;
  await guarded(async () => {
    await api("POST", `/devices/${encodeURIComponent(d.id)}/revoke`);
    await loadPeople();
    await renderDevices();
    showNotice(tr("devices.revoked", { name: d.name }));
  });
}

async function renderUsers() {
  const { areas } = await api("GET", "/areas");
  const areaSelect = $("#user-area");
  const chosen = areaSelect.value;
  areaSelect.replaceChildren(...areas.map((a) => el("option", `${a.name} (${a.path})`, { value: a.path })));
  if (chosen) areaSelect.value = chosen;
  $("#users-table tbody").replaceChildren(...[...state.users.values()].map((u) => {
    const row = el("tr", null, { "data-user": u.id });
    const roles = u.roles.map((g) => `${tr(`role.${g.role}`)} · ${g.area}`).join("；");
    const action = el("td");
    const code = el("button", tr("users.code"), { class: "code-button" });
    code.addEventListener("click", () => createCode(u));
    const edit = el("button", tr("users.edit"), { class: "edit-button" });
    edit.addEventListener("click", () => editUser(u));
    const web = el("button", tr("web.open"), { class: "web-button" });
    web.addEventListener("click", () => openWebLogin(u));
    action.append(code, " ", edit, " ", web);
    row.append(el("td", u.name), el("td", roles), el("td", fmtTime(u.created_at)), action);
    return row;
  }));
}

/** Puts the user form in edit mode for `u`: its submit replaces the user's roles. */
function editUser(u) {
  $("#user-id").value = u.id;
  $("#user-name").value = u.name;
  $("#user-name").disabled = true;
  const first = u.roles[0];
  if (first) {
    $("#user-role").value = first.role;
    $("#user-area").value = first.area;
  }
  $("#user-form-title").textContent = tr("users.editing", { name: u.name });
  $("#user-submit").textContent = tr("users.save");
  $("#user-cancel").hidden = false;
}

/** Back to creating a new user. */
function resetUserForm() {
  $("#user-id").value = "";
  $("#user-name").value = "";
  $("#user-name").disabled = false;
  $("#user-form-title").textContent = tr("users.new");
  $("#user-submit").textContent = tr("users.create");
  $("#user-cancel").hidden = true;
}

/** The person whose web login the panel manages. */
let webUser = null;

function openWebLogin(u) {
  webUser = u;
  $("#web-user").textContent = u.name;
  $("#web-login-name").value = "";
  $("#web-otp").textContent = "";
  $("#web-otp-box").hidden = true;
  $("#enrolment").hidden = true;
  $("#web-login").hidden = false;
  $("#web-login").scrollIntoView({ block: "nearest" });
}

/** Runs an admin action on the person's web login; shows a one-time password it returns. */
async function webAction(path, notice, body = {}) {
  if (!webUser) return;
  const u = webUser;
  await guarded(async () => {
    const r = await api("POST", `/users/${encodeURIComponent(u.id)}${path}`, body);
    const otp = r.one_time_password || "";
    $("#web-otp").textContent = otp;
    $("#web-otp-box").hidden = !otp;
    showNotice(tr(notice, { name: u.name }));
  });
}

async function createCode(u) {
  await guarded(async () => {
    const c = await api("POST", "/enrolment-codes", { user_id: u.id });
    $("#enrol-user").textContent = u.name;
    $("#enrol-code").textContent = c.code;
    $("#enrol-qr").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(c.qr_svg)}`;
    $("#enrol-qr").alt = c.enrol_uri;
    $("#enrol-expires").textContent = fmtTime(c.expires_at);
    $("#web-login").hidden = true;
    $("#enrolment").hidden = false;
    $("#enrolment").scrollIntoView({ block: "nearest" });
  });
}

async function renderAreas() {
  const { areas } = await api("GET", "/areas");
  const byPath = new Map();
  const roots = [];
  for (const a of [...areas].sort((x, y) => x.path.localeCompare(y.path))) {
    const li = el("li", null, { "data-path": a.path });
    li.append(el("span", a.name), el("code", a.path));
    const node = { li, ul: null };
    byPath.set(a.path, node);
    const parent = byPath.get(a.path.split("/").slice(0, -1).join("/"));
    if (parent) {
      if (!parent.ul) { parent.ul = el("ul"); parent.li.append(parent.ul); }
      parent.ul.append(li);
    } else {
      roots.push(li);
    }
  }
  $("#area-tree").replaceChildren(...roots);
}

async function renderDepartments() {
  const { departments } = await api("GET", "/departments");
  $("#department-table tbody").replaceChildren(...departments.map((d) => {
    const row = el("tr", null, { "data-code": d.code, class: d.active ? "served" : "withheld" });
    const edit = el("button", tr("departments.change"), { class: "edit-department" });
    edit.addEventListener("click", () => {
      $("#department-code").value = d.code;
      $("#department-name-zh").value = d.name_zh;
      $("#department-name-en").value = d.name_en;
      $("#department-categories").value = d.categories.join(",");
      $("#department-area").value = d.area ?? "";
      $("#department-active").checked = d.active;
    });
    const action = el("td");
    action.append(edit);
    row.append(el("td", d.code), el("td", d.name_zh), el("td", d.name_en),
      el("td", d.categories.join(", ")), el("td", d.area ?? tr("departments.everywhere")),
      el("td", tr(d.active ? "departments.active" : "departments.retired")), action);
    return row;
  }));
  const select = $("#membership-user");
  const chosen = select.value;
  select.replaceChildren(...[...state.users.values()]
    .filter((u) => u.roles.some((g) => g.role === "department_handler"))
    .map((u) => el("option", u.name, { value: u.id })));
  if (chosen) select.value = chosen;
}

/** The comma-separated list in an input, trimmed, without empties. */
function listOf(sel) {
  return $(sel).value.split(",").map((x) => x.trim()).filter((x) => x);
}

async function renderAudit() {
  const select = $("#audit-device");
  const chosen = select.value;
  select.replaceChildren(el("option", tr("audit.all"), { value: "" }),
    ...[...state.devices.values()].map((d) => el("option", d.name, { value: d.id })));
  select.value = chosen;
  const q = chosen ? `&device=${encodeURIComponent(chosen)}` : "";
  const { entries } = await api("GET", `/audit?limit=200${q}`);
  $("#audit-table tbody").replaceChildren(...entries.map((e) => {
    const row = el("tr", null, { "data-action": e.action });
    row.append(el("td", fmtTime(e.at)), el("td", tr(`action.${e.action}`)),
      el("td", e.device_id ? deviceName(e.device_id) : "—"),
      el("td", e.user_id ? userName(e.user_id) : "—"), el("td", e.count),
      el("td", e.areas.join(", ")), el("td", e.detail));
    return row;
  }));
}

async function renderHeld() {
  const { changes } = await api("GET", "/held");
  $("#held-none").hidden = changes.length > 0;
  $("#held-table tbody").replaceChildren(...changes.map((c) => {
    const row = el("tr", null, { "data-hash": c.hash, class: c.withheld ? "withheld" : "served" });
    const reasons = [...new Set(c.reports.map((r) => r.reason))].join(", ");
    const who = c.reports.map((r) => deviceName(r.device_id)).join(", ");
    const reporters = el("td", `${c.devices}: ${who}`);
    reporters.title = c.reports.map((r) => `${deviceName(r.device_id)}: ${r.detail}`).join("\n");
    const action = el("td");
    const b = c.withheld
      ? el("button", tr("held.restore"), { class: "restore-button" })
      : el("button", tr("held.withhold"), { class: "withhold-button danger" });
    b.addEventListener("click", () => setWithheld(c, !c.withheld));
    action.append(b);
    row.append(el("td", c.hash.slice(0, 12), { title: c.hash }), el("td", c.doc_id),
      el("td", c.kind), el("td", c.area), el("td", c.seq), el("td", fmtTime(c.received_at)),
      reporters, el("td", reasons), el("td", tr(c.withheld ? "held.withheld" : "held.served")),
      action);
    return row;
  }));
}

async function setWithheld(c, withhold) {
  const hash = c.hash.slice(0, 12);
  if (withhold && !window.confirm(tr("held.confirm_withhold", { hash }))) return;
  await guarded(async () => {
    await api("POST", `/held/${encodeURIComponent(c.hash)}/${withhold ? "withhold" : "restore"}`);
    await renderHeld();
    showNotice(tr(withhold ? "held.done_withhold" : "held.done_restore", { hash }));
  });
}

const RENDER = {
  health: renderHealth, devices: renderDevices, users: renderUsers, areas: renderAreas,
  departments: renderDepartments, held: renderHeld, audit: renderAudit,
};

/** Runs `f`, showing its error (and the sign-in form when the token is refused). */
async function guarded(f) {
  try {
    await f();
  } catch (e) {
    if (SIGNED_OUT.includes(e.code)) signOut();
    showError(e.message);
  }
}

async function show(view) {
  state.view = view;
  showNotice("");
  showError("");
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== `view-${view}`;
  for (const b of document.querySelectorAll("nav [data-view]")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  }
  await guarded(async () => {
    await loadPeople();
    await RENDER[view]();
  });
}

function signOut() {
  state.token = "";
  state.csrf = "";
  sessionStorage.removeItem("gridwork.token");
  $("#app").hidden = true;
  $("#logout").hidden = true;
  $("#password-form").hidden = true;
  $("#login").hidden = false;
}

/** Opens the console once a credential (token or session) is in `state`. */
async function enter() {
  try {
    await api("GET", "/sync-health");
  } catch (e) {
    signOut();
    showError(e.message);
    return;
  }
  if (state.token) sessionStorage.setItem("gridwork.token", state.token);
  showError("");
  $("#login").hidden = true;
  $("#password-form").hidden = true;
  $("#app").hidden = false;
  $("#logout").hidden = false;
  await show(state.view);
}

async function signIn(token) {
  state.csrf = "";
  state.token = token;
  await enter();
}

/** A staff session (from sign-in or `GET /api/v1/me`): the console, or the password change. */
async function useSession(me) {
  state.token = "";
  state.csrf = me.csrf_token;
  if (me.must_change_password) {
    $("#password-form").hidden = false;
    showNotice(tr("staff.must_change"));
    return;
  }
  await enter();
}

async function staffSignIn(login, password) {
  try {
    state.token = "";
    state.csrf = "";
    await useSession(await call("POST", "/api/v1/session", { login, password }));
  } catch (e) {
    showError(e.message);
  } finally {
    $("#staff-password").value = "";
  }
}

async function logout() {
  if (state.csrf) {
    try { await call("DELETE", "/api/v1/session"); } catch { /* the session is gone anyway */ }
  }
  signOut();
  showNotice("");
}

function wire() {
  $("#lang").addEventListener("change", async (ev) => {
    state.lang = LANGS.includes(ev.target.value) ? ev.target.value : "zh-CN";
    localStorage.setItem("gridwork.lang", state.lang);
    applyLanguage();
    if (!$("#app").hidden) await show(state.view);
  });
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await signIn($("#token").value.trim());
  });
  $("#logout").addEventListener("click", logout);
  $("#staff-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await staffSignIn($("#staff-login").value.trim(), $("#staff-password").value);
  });
  $("#password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await call("POST", "/api/v1/me/password", {
        current_password: $("#password-current").value,
        new_password: $("#password-new").value,
      });
      $("#password-current").value = "";
      $("#password-new").value = "";
      showNotice(tr("staff.changed"));
      await enter();
    } catch (e) {
      showError(e.message);
    }
  });
  $("#refresh").addEventListener("click", () => show(state.view));
  for (const b of document.querySelectorAll("nav [data-view]")) {
    b.addEventListener("click", () => show(b.dataset.view));
  }
  $("#department-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await guarded(async () => {
      const code = $("#department-code").value.trim();
      const area = $("#department-area").value.trim();
      await api("PUT", `/departments/${encodeURIComponent(code)}`, {
        code,
        name_zh: $("#department-name-zh").value.trim(),
        name_en: $("#department-name-en").value.trim(),
        categories: listOf("#department-categories"),
        area: area || null,
        active: $("#department-active").checked,
      });
      await renderDepartments();
      showNotice(tr("departments.saved", { code }));
    });
  });
  $("#membership-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await guarded(async () => {
      const id = $("#membership-user").value;
      const departments = listOf("#membership-codes");
      await api("PUT", `/users/${encodeURIComponent(id)}/departments`, { departments });
      showNotice(tr("departments.members_saved", { name: userName(id), codes: departments.join(", ") || "—" }));
    });
  });
  $("#user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await guarded(async () => {
      const name = $("#user-name").value.trim();
      const grant = { role: $("#user-role").value, area: $("#user-area").value };
      const id = $("#user-id").value;
      if (id) {
        await api("PUT", `/users/${encodeURIComponent(id)}/roles`, { roles: [grant] });
        showNotice(tr("users.updated", { name, role: tr(`role.${grant.role}`), area: grant.area }));
      } else {
        await api("POST", "/users", { name, roles: [grant] });
        showNotice(tr("users.created", { name }));
      }
      resetUserForm();
      await loadPeople();
      await renderUsers();
    });
  });
  $("#user-cancel").addEventListener("click", resetUserForm);
  $("#web-login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await webAction("/login", "web.granted", { login: $("#web-login-name").value.trim() });
  });
  $("#web-reset").addEventListener("click", () => webAction("/password-reset", "web.reset_done"));
  $("#web-unlock").addEventListener("click", () => webAction("/unlock", "web.unlocked"));
  $("#web-disable").addEventListener("click", () => {
    if (webUser && window.confirm(tr("web.confirm_disable", { name: webUser.name }))) {
      webAction("/disable", "web.disabled");
    }
  });
  $("#web-enable").addEventListener("click", () => webAction("/enable", "web.enabled"));
  $("#area-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await guarded(async () => {
      const name = $("#area-name").value.trim();
      await api("POST", "/areas", { path: $("#area-path").value.trim(), name });
      await renderAreas();
      showNotice(tr("areas.saved", { name }));
    });
  });
  $("#audit-device").addEventListener("change", () => guarded(renderAudit));
}

wire();
applyLanguage();
if (state.token) {
  signIn(state.token);
} else {
  // A staff session survives a reload in its cookie: ask who is signed in.
  fetch("/api/v1/me", { credentials: "same-origin" })
    .then((res) => (res.ok ? res.json() : null))
    .then((me) => (me ? useSession(me) : undefined))
    .catch(() => {});
}
