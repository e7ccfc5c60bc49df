// stemd's page: jobs, a job, the submit form. Plain DOM, no framework. Every
// request is same-origin; every state-changing one carries the session's CSRF
// token. Text from the API always goes in through textContent, never as HTML.
"use strict";

const STEMS = ["vocals", "male_vocal", "female_vocal", "lead_vocal", "back_vocal", "guitar",
  "acoustic_guitar", "electric_guitar", "rhythm_guitar", "solo_guitar", "drums", "kick_drum",
  "snare_drum", "toms", "hi_hat", "ride", "crash", "piano", "keys", "strings", "winds", "bass",
  "instrumental"];
const DEFAULT_STEMS = ["drums", "bass", "piano", "guitar"];
const PREPROCESSING = ["Denoise", "Deecho", "Dereverb"];
const STATUSES = ["submitting", "submitted", "downloading", "completed", "failed"];
const PAGE_SIZE = 50;

const app = {
  csrf: "",
  events: null,        // the EventSource, once signed in
  view: null,          // what is shown: {kind, ...}
  progress: new Map(), // job id -> Map(file name -> {received, total})
  list: { status: "", before: null, next: null, back: [] },
};

// ---- small helpers ---------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return (u === 0 ? String(v) : v.toFixed(1)) + " " + units[u];
}

function age(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return Math.floor(s) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h";
  return Math.floor(s / 86400) + " d";
}

function cost(job) {
  if (typeof job.conversion_cost === "number") return job.conversion_cost.toFixed(3);
  if (typeof job.credit_estimate === "number") return "~" + job.credit_estimate.toFixed(3);
  return "—";
}

function stemsOf(job) {
  const s = Array.isArray(job.stems) && job.stems.length ? job.stems : DEFAULT_STEMS;
  return s.join(", ");
}

function statusBadge(status) {
  return el("span", { class: "status " + status, text: status });
}

function jobPath(id) { return "/v1/jobs/" + encodeURIComponent(id); }

// A request to the API. Resolves to {status, body}; the body is parsed JSON
// (or null). A 401 means the session is gone: back to the sign-in.
async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET" && method !== "HEAD") {
    headers["X-CSRF-Token"] = app.csrf;
    headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, {
    method, headers, credentials: "same-origin", cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let parsed = null;
  try { parsed = await res.json(); } catch (_) { parsed = null; }
  if (res.status === 401 && !path.startsWith("/v1/session")) showSignIn("Your session has ended; sign in again.");
  return { status: res.status, body: parsed };
}

function errorText(r) {
  if (r.body && typeof r.body.error === "string") {
    let t = r.body.error;
    if (typeof r.body.message === "string" && r.body.message) t += ": " + r.body.message;
    return t;
  }
  return "HTTP " + r.status;
}

function setMain(...children) {
  const main = document.getElementById("main");
  main.replaceChildren(...children);
}

function setLive(on) {
  const live = document.getElementById("live");
  live.hidden = false;
  live.className = "live " + (on ? "on" : "off");
  live.textContent = on ? "live" : "reconnecting";
}

// ---- sign-in ---------------------------------------------------------------

function showSignIn(message) {
  app.csrf = "";
  if (app.events) { app.events.close(); app.events = null; }
  document.getElementById("nav").hidden = true;
  document.getElementById("live").hidden = true;
  const error = el("p", { class: "error", role: "alert", id: "signin-error" });
  error.hidden = !message;
  if (message) error.textContent = message;
  const input = el("input", { type: "password", id: "token", name: "token", autocomplete: "current-password",
    required: true, spellcheck: "false" });
  const form = el("form", { id: "signin", onsubmit: async (ev) => {
    ev.preventDefault();
    const r = await api("POST", "/v1/session", { token: input.value.trim() });
    if (r.status === 200 && r.body && r.body.csrf) return signedIn(r.body.csrf);
    error.hidden = false;
    error.textContent = errorText(r);
    input.select();
  } },
  el("div", {}, el("label", { for: "token", text: "API token" }), input,
    el("p", { class: "hint", text: "The token is in the api-token file beside stemd's database. " +
      "Or run `stemd open` on the stemd host for a link that signs you in." })),
  error,
  el("div", {}, el("button", { type: "submit", class: "primary", id: "signin-button", text: "Sign in" })));
  setMain(el("section", { class: "signin panel" }, el("h1", { text: "Sign in to stemd" }), form));
  input.focus();
}

function signedIn(csrf) {
  app.csrf = csrf;
  document.getElementById("nav").hidden = false;
  openEvents();
  route();
}

async function start() {
  const m = /^#code=([^&]+)/.exec(location.hash);
  if (m) {
    // The one-time code from `stemd open`: used once, then out of the address bar and history.
    history.replaceState(null, "", location.pathname + "#/");
    const r = await api("POST", "/v1/session", { code: decodeURIComponent(m[1]) });
    if (r.status === 200 && r.body && r.body.csrf) return signedIn(r.body.csrf);
    return showSignIn("The sign-in link did not work (" + errorText(r) + "); it is good once and for a minute. " +
      "Run `stemd open` again, or enter the API token.");
  }
  const r = await api("GET", "/v1/session");
  if (r.status === 200 && r.body && r.body.csrf) return signedIn(r.body.csrf);
  showSignIn("");
}

async function signOut() {
  await api("DELETE", "/v1/session");
  history.replaceState(null, "", location.pathname + "#/");
  showSignIn("Signed out.");
}

// ---- the event stream ------------------------------------------------------

function openEvents() {
  if (app.events) return;
  const es = new EventSource("/v1/events");
  app.events = es;
  es.onopen = () => setLive(true);
  es.onerror = () => setLive(false);
  es.addEventListener("job", (ev) => {
    let data;
    try { data = JSON.parse(ev.data); } catch (_) { return; }
    onJobEvent(data);
  });
  es.addEventListener("progress", (ev) => {
    let data;
    try { data = JSON.parse(ev.data); } catch (_) { return; }
    onProgress(data);
  });
}

function onJobEvent(e) {
  const v = app.view;
  if (!v) return;
  if (v.kind === "jobs") {
    refreshCountsSoon();
    refreshRow(e.job_id);
  } else if (v.kind === "job" && v.id === e.job_id) {
    appendEvent(e);
    refreshJob();
  }
}

function onProgress(p) {
  if (!app.progress.has(p.job_id)) app.progress.set(p.job_id, new Map());
  app.progress.get(p.job_id).set(p.file, { received: p.received_bytes, total: p.total_bytes });
  const v = app.view;
  if (v && v.kind === "jobs") {
    const row = document.querySelector(`tr[data-job="${CSS.escape(p.job_id)}"]`);
    if (row) setBar(row.querySelector(".bar"), jobFraction(p.job_id));
  } else if (v && v.kind === "job" && v.id === p.job_id) {
    const f = document.querySelector(`.file[data-file="${CSS.escape(p.file)}"]`);
    if (f) setBar(f.querySelector(".bar"), p.total_bytes ? p.received_bytes / p.total_bytes : null,
      bytes(p.received_bytes) + (p.total_bytes ? " of " + bytes(p.total_bytes) : ""));
  }
}

// ---- progress bars ---------------------------------------------------------

function makeBar(label) {
  return el("div", { class: "bar" }, el("progress", { max: "1", "aria-label": label }),
    el("span", { class: "pct", text: "" }));
}

// fraction null: indeterminate (size not known yet).
function setBar(bar, fraction, title) {
  if (!bar) return;
  const p = bar.querySelector("progress");
  const pct = bar.querySelector(".pct");
  if (fraction === null || fraction === undefined || !isFinite(fraction)) {
    p.removeAttribute("value");
    pct.textContent = "";
  } else {
    const f = Math.min(1, Math.max(0, fraction));
    p.value = f;
    pct.textContent = Math.floor(f * 100) + "%";
  }
  if (title) p.title = title;
}

function jobFraction(id, job) {
  let got = 0, total = 0, known = false;
  const live = app.progress.get(id);
  if (job && Array.isArray(job.files)) {
    for (const f of job.files) {
      const l = live && live.get(f.name);
      const size = (l && l.total) || f.total_bytes || (f.status === "done" ? f.bytes : 0);
      const rec = f.status === "done" ? size : (l ? l.received : (f.received_bytes || 0));
      if (size) { known = true; total += size; got += rec; }
    }
  } else if (live) {
    for (const l of live.values()) if (l.total) { known = true; total += l.total; got += l.received; }
  }
  return known && total > 0 ? got / total : null;
}

// ---- the jobs table --------------------------------------------------------

const COLUMNS = [
  ["c-id", "Job"], ["c-status", "Status"], ["c-stems", "Stems"], ["c-age num", "Age"],
  ["c-cost num", "Cost"], ["c-progress", "Progress"],
];

function jobRow(job) {
  const tr = el("tr", { "data-job": job.id });
  for (const [cls, label] of COLUMNS) tr.append(el("td", { class: cls, "data-label": label }));
  fillRow(tr, job);
  return tr;
}

// Fills the cells of a row in place: the row keeps its place and its size.
function fillRow(tr, job) {
  const c = tr.children;
  tr.dataset.status = job.status;
  tr.dataset.created = job.created_at;
  c[0].replaceChildren(el("a", { href: "#/jobs/" + encodeURIComponent(job.id), class: "mono", text: job.id }));
  c[1].replaceChildren(statusBadge(job.status));
  c[2].textContent = stemsOf(job);
  c[2].title = stemsOf(job);
  c[3].textContent = age(job.created_at);
  c[4].textContent = cost(job);
  const running = job.status === "downloading" || job.status === "submitted" || job.status === "submitting";
  if (running) {
    let bar = c[5].querySelector(".bar");
    if (!bar) { bar = makeBar("progress of " + job.id); c[5].replaceChildren(bar); }
    setBar(bar, jobFraction(job.id, job));
  } else {
    c[5].replaceChildren(el("span", { class: "muted", text: job.status === "completed" ? "done" :
      job.status === "failed" ? (job.error || "failed") : "" }));
    c[5].title = job.status === "failed" ? (job.error || "") : "";
  }
}

function listHash(status) { return "#/" + (status ? "?status=" + encodeURIComponent(status) : ""); }

async function showJobs(status) {
  const L = app.list;
  if (L.status !== status) { L.status = status; L.before = null; L.back = []; }
  app.view = { kind: "jobs" };
  const tbody = el("tbody", { id: "jobs-body" });
  const table = el("table", { class: "jobs", id: "jobs" },
    el("thead", {}, el("tr", {}, ...COLUMNS.map(([cls, label]) => el("th", { class: cls, scope: "col", text: label })))),
    tbody);
  const filters = el("div", { class: "toolbar", role: "group", "aria-label": "Filter by status", id: "filters" });
  for (const s of [""].concat(STATUSES)) {
    filters.append(el("button", { type: "button", "data-status": s, "aria-pressed": String(s === status),
      onclick: () => { location.hash = listHash(s); } },
      s || "all", el("span", { class: "count", "data-count": s || "total", text: "" })));
  }
  const newer = el("button", { type: "button", id: "newer", text: "← Newer", onclick: () => {
    L.before = L.back.pop() ?? null; loadJobs(); } });
  const older = el("button", { type: "button", id: "older", text: "Older →", onclick: () => {
    L.back.push(L.before); L.before = L.next; loadJobs(); } });
  const error = el("p", { class: "error", role: "alert", id: "jobs-error", hidden: true });
  setMain(el("h1", { text: "Jobs" }), filters, error, table, el("div", { class: "pager" }, newer, older));
  await Promise.all([loadJobs(), refreshCounts()]);
}

async function loadJobs() {
  const L = app.list;
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (L.status) q.set("status", L.status);
  if (L.before) q.set("before", L.before);
  const r = await api("GET", "/v1/jobs?" + q);
  const tbody = document.getElementById("jobs-body");
  if (!tbody) return;
  const error = document.getElementById("jobs-error");
  if (r.status !== 200) { error.hidden = false; error.textContent = errorText(r); return; }
  error.hidden = true;
  L.next = r.body.next ?? null;
  const rows = r.body.jobs.map(jobRow);
  if (!rows.length)
    rows.push(el("tr", {}, el("td", { colspan: "6", class: "empty",
      text: L.status ? "No " + L.status + " jobs." : "No jobs yet. Submit one." })));
  tbody.replaceChildren(...rows);
  document.getElementById("newer").disabled = !L.before;
  document.getElementById("older").disabled = !L.next;
}

let countsTimer = null;
function refreshCountsSoon() {
  if (countsTimer) return;
  countsTimer = setTimeout(() => { countsTimer = null; refreshCounts(); }, 300);
}

async function refreshCounts() {
  const r = await api("GET", "/v1/counts");
  if (r.status !== 200 || !r.body) return;
  for (const span of document.querySelectorAll("#filters .count")) {
    const k = span.dataset.count;
    const n = k === "total" ? r.body.total : (r.body.counts || {})[k];
    span.textContent = typeof n === "number" ? String(n) : "";
  }
}

// A job event on the jobs table: the row updated in place, or a new job put
// at the top when this is the first page and the job fits the filter.
async function refreshRow(id) {
  const r = await api("GET", jobPath(id));
  if (r.status !== 200 || !app.view || app.view.kind !== "jobs") return;
  const job = r.body;
  const tbody = document.getElementById("jobs-body");
  if (!tbody) return;
  const row = tbody.querySelector(`tr[data-job="${CSS.escape(id)}"]`);
  const fits = !app.list.status || app.list.status === job.status;
  if (row) return fillRow(row, job);
  if (!fits || app.list.before) return;
  const empty = tbody.querySelector("td.empty");
  if (empty) empty.parentElement.remove();
  // Newest first: after any row created later than this one.
  let at = tbody.firstElementChild;
  while (at && at.dataset.created && at.dataset.created > job.created_at) at = at.nextElementSibling;
  tbody.insertBefore(jobRow(job), at);
}

setInterval(() => {
  for (const tr of document.querySelectorAll("#jobs-body tr[data-created]"))
    tr.children[3].textContent = age(tr.dataset.created);
}, 15000);

// ---- a job -----------------------------------------------------------------

async function showJob(id) {
  app.view = { kind: "job", id, eventIds: new Set() };
  const r = await api("GET", jobPath(id));
  if (!app.view || app.view.id !== id) return;
  if (r.status !== 200) {
    setMain(el("h1", { text: "Job " + id }), el("p", { class: "error", role: "alert", text: errorText(r) }),
      el("p", {}, el("a", { href: "#/", text: "Back to the jobs" })));
    return;
  }
  const retryError = el("p", { class: "error", role: "alert", id: "retry-error", hidden: true });
  const retry = el("button", { type: "button", class: "primary", id: "retry", hidden: true, text: "Retry",
    onclick: () => retryJob(id, retry, retryError) });
  setMain(
    el("section", { id: "job", "data-job": id },
      el("div", { class: "job-head" },
        el("h1", {}, "Job ", el("span", { class: "mono", text: id })),
        el("div", { class: "actions" }, el("span", { id: "job-status" }), retry)),
      retryError,
      el("dl", { class: "facts panel", id: "job-facts" }),
      el("h2", { text: "Stems" }),
      el("div", { class: "files", id: "files" }),
      el("h2", { text: "Notifications" }),
      el("div", { id: "notifications", class: "panel" }),
      el("h2", { text: "Events" }),
      el("div", { class: "panel" }, el("table", { class: "list", id: "events" },
        el("thead", {}, el("tr", {}, el("th", { text: "When" }), el("th", { text: "What" }),
          el("th", { text: "File" }), el("th", { text: "Detail" }))),
        el("tbody", {})))));
  renderJob(r.body);
  const ev = await api("GET", jobPath(id) + "/events");
  if (ev.status === 200 && ev.body) for (const e of ev.body.events) appendEvent(e);
}

async function refreshJob() {
  const v = app.view;
  const r = await api("GET", jobPath(v.id));
  if (r.status === 200 && app.view === v) renderJob(r.body);
}

function renderJob(job) {
  document.getElementById("job-status").replaceChildren(statusBadge(job.status));
  document.getElementById("retry").hidden = job.status !== "failed";
  const facts = [
    ["Source", job.audio_url || job.audio_file || "—"],
    ["Stems", stemsOf(job)],
    ["Preprocessing", (job.preprocessing_options || []).join(", ") || "none"],
    ["Created", new Date(job.created_at).toLocaleString() + " (" + age(job.created_at) + " ago)"],
    ["Task", job.task_id || "—"],
    ["Cost", cost(job)],
  ];
  if (job.error) facts.push(["Error", job.error]);
  document.getElementById("job-facts").replaceChildren(
    ...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, class: k === "Error" ? "error-text" : null })]));
  const files = document.getElementById("files");
  if (!job.files.length) {
    files.replaceChildren(el("p", { class: "muted panel", id: "no-files",
      text: job.status === "failed" ? "No stems." : "The stems appear here once MusicGPT has made them." }));
  } else {
    files.querySelector("#no-files")?.remove();
    for (const f of job.files) renderFile(files, job, f);
  }
  renderNotifications(job.notifications);
}

// One stem, updated in place: its player and waveform are made once, so
// playback goes on while the rest of the page updates.
function renderFile(files, job, f) {
  let box = files.querySelector(`.file[data-file="${CSS.escape(f.name)}"]`);
  if (!box) {
    box = el("article", { class: "file", "data-file": f.name },
      el("div", { class: "file-head" }, el("span", { class: "name", text: f.name }),
        el("span", { class: "fstatus" }), el("span", { class: "size num" })),
      el("code", { class: "sha" }),
      el("div", { class: "slot" }));
    files.append(box);
  }
  box.dataset.status = f.status;
  box.querySelector(".fstatus").replaceChildren(statusBadge(f.status));
  box.querySelector(".size").textContent = f.status === "done" ? bytes(f.bytes) : "";
  box.querySelector(".sha").textContent = f.sha256 ? "SHA-256 " + f.sha256 : (f.error || "");
  const slot = box.querySelector(".slot");
  if (f.status === "done") {
    if (!slot.querySelector("audio") && f.href) {
      const canvas = el("canvas", { class: "waveform", "aria-label": "waveform of " + f.name, role: "img" });
      slot.replaceChildren(canvas, el("audio", { controls: true, preload: "metadata", src: f.href }));
      drawWaveform(canvas, f.href);
    }
  } else if (f.status === "downloading" || f.status === "pending") {
    let bar = slot.querySelector(".bar");
    if (!bar) { bar = makeBar("download of " + f.name); slot.replaceChildren(bar); }
    const live = app.progress.get(job.id)?.get(f.name);
    const got = live ? live.received : (f.received_bytes || 0);
    const total = live ? live.total : f.total_bytes;
    setBar(bar, total ? got / total : null, bytes(got) + (total ? " of " + bytes(total) : ""));
  } else {
    slot.replaceChildren();
  }
}

async function drawWaveform(canvas, href) {
  const width = Math.max(200, Math.round(canvas.clientWidth || 800));
  const points = Math.min(4096, Math.max(16, Math.round(width / 3)));
  let r;
  try { r = await api("GET", href + "/waveform?points=" + points); } catch (_) { r = { status: 0 }; }
  if (r.status !== 200 || !r.body || !Array.isArray(r.body.peaks)) {
    canvas.replaceWith(el("div", { class: "nowave", text: r.status === 415 ? "no waveform (this format is not decoded)" : "no waveform" }));
    return;
  }
  const ratio = window.devicePixelRatio || 1;
  const h = canvas.clientHeight || 72;
  canvas.width = width * ratio;
  canvas.height = h * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--wave").trim() || "#1f6feb";
  const peaks = r.body.peaks;
  const step = width / peaks.length;
  const mid = h / 2;
  for (let i = 0; i < peaks.length; i++) {
    const a = Math.max(0.01, Math.min(1, peaks[i])) * (mid - 2);
    ctx.fillRect(i * step, mid - a, Math.max(1, step - 1), a * 2);
  }
  canvas.title = r.body.seconds ? r.body.seconds.toFixed(1) + " s" : "";
  canvas.dataset.drawn = "true";
}

function renderNotifications(list) {
  const box = document.getElementById("notifications");
  if (!Array.isArray(list) || !list.length) {
    box.replaceChildren(el("p", { class: "muted", text: "No notifications for this job ([notify] sends one when it completes or fails)." }));
    return;
  }
  const rows = list.map((n) => el("tr", { "data-notification": n.id },
    el("td", { class: "mono", text: n.event }), el("td", {}, statusBadge(n.status)),
    el("td", { class: "num", text: String(n.attempts) }),
    el("td", { class: "at", text: n.delivered_at ? "delivered " + new Date(n.delivered_at).toLocaleString()
      : n.next_attempt_at ? "next try " + new Date(n.next_attempt_at).toLocaleString() : "" }),
    el("td", { class: "detail", text: n.last_error || "" })));
  box.replaceChildren(el("table", { class: "list" },
    el("thead", {}, el("tr", {}, ...["Event", "Status", "Attempts", "When", "Last error"].map((t) => el("th", { text: t })))),
    el("tbody", {}, ...rows)));
}

function appendEvent(e) {
  const v = app.view;
  if (!v || v.kind !== "job" || v.eventIds.has(e.id)) return;
  v.eventIds.add(e.id);
  const tbody = document.querySelector("#events tbody");
  if (!tbody) return;
  tbody.append(el("tr", { "data-kind": e.kind },
    el("td", { class: "at", text: new Date(e.at).toLocaleTimeString() }),
    el("td", { class: "mono", text: e.kind }), el("td", { text: e.file || "" }),
    el("td", { class: "detail", text: e.detail || "" })));
}

async function retryJob(id, button, error) {
  button.disabled = true;
  const r = await api("POST", jobPath(id) + "/retry");
  button.disabled = false;
  if (r.status !== 200) { error.hidden = false; error.textContent = errorText(r); return; }
  error.hidden = true;
  renderJob(r.body);
}

// ---- the submit form -------------------------------------------------------

function checkboxes(name, values, checked) {
  return el("div", { class: "choices" }, ...values.map((v) =>
    el("label", {}, el("input", { type: "checkbox", name, value: v, checked: checked.includes(v) }), v.replace(/_/g, " "))));
}

function showSubmit() {
  app.view = { kind: "submit" };
  const byUrl = el("input", { type: "radio", name: "source", value: "url", id: "source-url", checked: true });
  const byFile = el("input", { type: "radio", name: "source", value: "file", id: "source-file" });
  const url = el("input", { type: "url", id: "audio-url", name: "audio_url", placeholder: "https://…/song.mp3",
    required: true, autocomplete: "off" });
  const file = el("input", { type: "file", id: "audio-file", name: "audio_file", accept: "audio/*" });
  const urlRow = el("div", {}, el("label", { for: "audio-url", text: "Audio URL" }), url);
  const fileRow = el("div", { hidden: true }, el("label", { for: "audio-file", text: "Audio file" }), file,
    el("p", { class: "hint", text: "Sent to stemd, which uploads it to MusicGPT (at most 8 minutes of audio)." }));
  const pick = () => {
    const isUrl = byUrl.checked;
    urlRow.hidden = !isUrl; fileRow.hidden = isUrl;
    url.required = isUrl; file.required = !isUrl;
  };
  byUrl.addEventListener("change", pick);
  byFile.addEventListener("change", pick);
  const bar = makeBar("upload");
  bar.hidden = true;
  bar.id = "upload-progress";
  const error = el("p", { class: "error", role: "alert", id: "submit-error", hidden: true });
  const button = el("button", { type: "submit", class: "primary", id: "submit-button", text: "Submit job" });
  const form = el("form", { class: "submit panel", id: "submit-form", novalidate: false },
    el("fieldset", {}, el("legend", { text: "Song" }),
      el("div", { class: "inline", role: "radiogroup", "aria-label": "Source" },
        el("label", {}, byUrl, "By URL"), el("label", {}, byFile, "Upload a file")),
      urlRow, fileRow),
    el("fieldset", {}, el("legend", { text: "Stems" }), checkboxes("stems", STEMS, ["vocals", "instrumental"]),
      el("p", { class: "hint", text: "None ticked: MusicGPT makes drums, bass, piano and guitar." })),
    el("fieldset", {}, el("legend", { text: "Preprocessing" }), checkboxes("preprocessing", PREPROCESSING, []),
      el("div", { class: "inline" }, el("label", {}, el("input", { type: "checkbox", name: "eco_mode", id: "eco-mode" }), "Eco mode"))),
    error,
    el("div", { class: "actions" }, button, bar));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitJob(form, byUrl.checked ? { url: url.value.trim() } : { file: file.files[0] }, error, bar, button);
  });
  setMain(el("h1", { text: "Submit a song" }), form);
}

function formOptions(form) {
  const picked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  const o = {};
  const stems = picked("stems");
  if (stems.length) o.stems = stems;
  const pre = picked("preprocessing");
  if (pre.length) o.preprocessing_options = pre;
  if (form.querySelector("#eco-mode").checked) o.eco_mode = true;
  return o;
}

async function submitJob(form, source, error, bar, button) {
  error.hidden = true;
  const options = formOptions(form);
  let r;
  button.disabled = true;
  try {
    if (source.url !== undefined) {
      if (!source.url) throw new Error("give the song's URL");
      r = await api("POST", "/v1/jobs", Object.assign({ audio_url: source.url }, options));
    } else {
      if (!source.file) throw new Error("choose a file to upload");
      r = await upload(source.file, options, bar);
    }
  } catch (e) {
    r = { status: 0, body: { error: e.message } };
  }
  button.disabled = false;
  if (r.status === 201) { location.hash = "#/jobs/" + encodeURIComponent(r.body.id); return; }
  error.hidden = false;
  error.textContent = errorText(r);
  if (r.body && r.body.job && r.body.job.id)
    error.append(" ", el("a", { href: "#/jobs/" + encodeURIComponent(r.body.job.id), text: "See the job" }));
}

// multipart/form-data through XMLHttpRequest: fetch has no upload progress.
function upload(file, options, bar) {
  return new Promise((resolve) => {
    const data = new FormData();
    data.append("options", JSON.stringify(options));
    data.append("audio_file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/jobs");
    xhr.setRequestHeader("X-CSRF-Token", app.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    setBar(bar, 0);
    xhr.upload.onprogress = (e) => setBar(bar, e.lengthComputable ? e.loaded / e.total : null,
      bytes(e.loaded) + (e.lengthComputable ? " of " + bytes(e.total) : ""));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
      if (xhr.status === 401) showSignIn("Your session has ended; sign in again.");
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => resolve({ status: 0, body: { error: "the upload did not reach stemd (connection lost)" } });
    xhr.send(data);
  });
}

// ---- routes ----------------------------------------------------------------

function route() {
  if (!app.csrf) return;
  const hash = location.hash || "#/";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  for (const a of document.querySelectorAll("#nav a")) a.removeAttribute("aria-current");
  let m;
  if ((m = /^\/jobs\/(.+)$/.exec(path))) {
    document.getElementById("nav-jobs").setAttribute("aria-current", "page");
    showJob(decodeURIComponent(m[1]));
  } else if (path === "/submit") {
    document.getElementById("nav-submit").setAttribute("aria-current", "page");
    showSubmit();
  } else {
    document.getElementById("nav-jobs").setAttribute("aria-current", "page");
    const status = params.get("status") || "";
    showJobs(STATUSES.includes(status) ? status : "");
  }
}

window.addEventListener("hashchange", () => {
  if (/^#code=/.test(location.hash)) return start();
  route();
  document.getElementById("main").focus({ preventScroll: true });
});
document.getElementById("signout").addEventListener("click", signOut);
start();
