// The command-centre workbench: the shell (sign-in, language, navigation), the directory every
// view names things with (areas, departments, people), and the live alerts. Views live in their
// own files and render into #view; every value is set with textContent (no HTML from data).
import { call, session, ApiError } from "/workbench/api.js";
import { TEXTS } from "/workbench/i18n.js";
import { renderToday } from "/workbench/today.js";
import { renderQueues } from "/workbench/queues.js";
import { renderOrder } from "/workbench/order.js";
import { renderTasks } from "/workbench/tasks.js";
import { renderHouseholds } from "/workbench/households.js";
import { renderPatrols } from "/workbench/patrols.js";
import { renderReference } from "/workbench/reference.js";

/** The page's state shared by the views. */
export const ui = {
  lang: localStorage.getItem("gridwork.lang") || (navigator.language.startsWith("zh") ? "zh-CN" : "en"),
  areas: new Map(),
  departments: new Map(),
  categories: new Map(),
  mine: [],
  people: new Map(),
};

export const $ = (sel, root = document) => root.querySelector(sel);

/** The text of `key` in the page's language; a missing key shows as ⟦key⟧ (tests look for it). */
export function tr(key, params = {}) {
  const text = TEXTS[ui.lang]?.[key];
  if (text === undefined) return `⟦${key}⟧`;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ""));
}

/** An element with text and attributes. */
export function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** A time (RFC 3339 or ms) in the page's language and the browser's time zone. */
export function fmtTime(t) {
  if (t === null || t === undefined) return "—";
  return new Date(t).toLocaleString(ui.lang, { hour12: false });
}

/** An area's name (its path when unknown). */
export const areaName = (path) => ui.areas.get(String(path).replace(/\/$/, ""))?.name || path;
/** A department's name in the page's language. */
export function deptName(code) {
  const d = ui.departments.get(code);
  if (!d) return code;
  return ui.lang === "zh-CN" ? d.name_zh : d.name_en;
}
/** A person's name (a short id when unknown). */
export function personName(id) {
  if (ui.people.has(id)) return id === SYSTEM_USER ? tr("person.system") : ui.people.get(id);
  return String(id).slice(0, 8);
}
const SYSTEM_USER = "67726964-776f-726b-0000-000000000001";

/** A code's text: a category's name from the district's reference data; else `prefix.code`
 * when translated, else the code itself. */
export function codeText(prefix, code) {
  if (prefix === "category" && ui.categories.has(code)) {
    const c = ui.categories.get(code);
    return ui.lang === "zh-CN" ? c.name_zh : c.name_en;
  }
  const key = `${prefix}.${code}`;
  return TEXTS[ui.lang]?.[key] ?? code;
}

/** Shows an error (an ApiError's code translated when known). */
export function showError(e) {
  const p = $("#error");
  if (!e) { p.hidden = true; return; }
  const code = e instanceof ApiError ? e.code : "";
  const known = code && TEXTS[ui.lang]?.[`error.${code}`];
  p.textContent = known ? tr(`error.${code}`) : `${tr("error.generic")} ${e.message || code}`;
  p.dataset.code = code;
  p.hidden = false;
  $("#notice").hidden = true;
  if (["session_expired", "session_invalid", "session_missing", "missing_credential"].includes(code)) {
    signedOut();
  }
}

/** Shows a notice. */
export function showNotice(text) {
  const p = $("#notice");
  p.textContent = text;
  p.hidden = !text;
  if (text) $("#error").hidden = true;
}

function translateStatic() {
  document.documentElement.lang = ui.lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = tr(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = tr(e.dataset.i18nPlaceholder);
  document.title = tr("title");
}

/** The views by route name. */
const VIEWS = {
  today: renderToday, queues: renderQueues, order: renderOrder, tasks: renderTasks,
  households: renderHouseholds, patrols: renderPatrols, reference: renderReference,
};

/** Renders the view the address names (`#/queues/to_accept`, `#/order/<id>`…). */
export async function route() {
  if (!session.me) return;
  const [name = "today", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const view = VIEWS[name] ? name : "today";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
  const root = $("#view");
  root.replaceChildren();
  root.dataset.view = view;
  showError(null);
  try {
    await VIEWS[view](root, rest.map(decodeURIComponent));
  } catch (e) {
    showError(e);
  }
  root.dataset.ready = "true";
}

async function loadDirectory() {
  const [areas, deps, people] = await Promise.all([
    call("GET", "/api/v1/areas"), call("GET", "/api/v1/departments"), call("GET", "/api/v1/people"),
  ]);
  ui.areas = new Map(areas.map((a) => [a.path, a]));
  ui.departments = new Map(deps.departments.map((d) => [d.code, d]));
  ui.mine = deps.mine;
  ui.people = new Map(Object.entries(people));
  // Category names come only from the district's reference data (its defaults when it has
  // none stored): the page keeps no copy of the list.
  try {
    const ref = await call("GET", "/api/v1/reference");
    ui.categories = new Map(ref.data.categories.map((c) => [c.code, c]));
  } catch {
    ui.categories = new Map();
  }
}

/** Opens the workbench for a session (from sign-in or `GET /api/v1/me`). */
async function useSession(me) {
  session.csrf = me.csrf_token;
  session.me = me.person;
  if (me.must_change_password) {
    showError(new ApiError("password_change_required", ""));
    return;
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = me.person.name;
  await loadDirectory();
  alerts.start();
  await route();
}

function signedOut() {
  session.csrf = "";
  session.me = null;
  alerts.stop();
  $("#app").hidden = true;
  $("#login").hidden = false;
}

/** The live alerts: server-sent events of the person's new work, shown as a count and a list. */
const alerts = {
  source: null,
  start() {
    if (this.source || typeof EventSource === "undefined") return;
    this.source = new EventSource("/api/v1/alerts/stream");
    this.source.addEventListener("alert", (ev) => {
      const a = JSON.parse(ev.data);
      const li = el("li", null, { "data-kind": a.kind, "data-order": a.work_order });
      const link = el("a", `${codeText("alert", a.kind)} · ${a.title}`, { href: `#/order/${a.work_order}` });
      li.append(link);
      $("#alerts").prepend(li);
      const n = $("#alerts").children.length;
      $("#alert-count").textContent = String(n);
      $("#alert-count").hidden = false;
    });
  },
  stop() {
    this.source?.close();
    this.source = null;
  },
};

async function signIn(ev) {
  ev.preventDefault();
  try {
    const me = await call("POST", "/api/v1/session", { login: $("#login-name").value, password: $("#login-password").value });
    $("#login-password").value = "";
    await useSession(me);
  } catch (e) {
    showError(e);
  }
}

async function signOut() {
  try { await call("DELETE", "/api/v1/session"); } catch { /* signed out either way */ }
  signedOut();
}

function setLang(lang) {
  ui.lang = lang;
  localStorage.setItem("gridwork.lang", lang);
  $("#lang").value = lang;
  translateStatic();
  route();
}

window.addEventListener("DOMContentLoaded", async () => {
  $("#lang").value = ui.lang;
  translateStatic();
  $("#lang").addEventListener("change", (e) => setLang(e.target.value));
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  try {
    await useSession(await call("GET", "/api/v1/me"));
  } catch {
    signedOut();
  }
});
