// stemd's page, shared by every view: the state, small DOM helpers, the API
// call and the progress bars. Plain DOM, no framework; the page's scripts are
// classic scripts loaded in order (api.js first, app.js last) and share these
// globals. Every request is same-origin; every state-changing one carries the
// session's CSRF token. Text from the API always goes in through textContent,
// never as HTML.
"use strict";

const DEFAULT_STEMS = ["drums", "bass", "piano", "guitar"];
const STATUSES = ["submitting", "submitted", "downloading", "completed", "failed"];

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
