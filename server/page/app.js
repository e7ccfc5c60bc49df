// stemd's page: sign-in, the event stream and the routes between the views
// (jobs.js, job.js, submit.js). Loaded last: it starts the page.
"use strict";

function showSignIn(message) {
  app.csrf = "";
  if (app.events) { app.events.close(); app.events = null; }
  clearTimeout(eventStream.timer);
  Object.assign(eventStream, { lastId: null, delay: 0, timer: null });
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

// The browser reconnects a dropped stream by itself, but gives up for good on
// an answer other than 200: a 401 once stemd has restarted (sessions live in
// its memory), or a refusal while it starts. Then the session is checked: gone,
// the sign-in form; still there, the stream opened again from the last event
// seen. Checks and reopenings wait a growing pause between them.
const eventStream = { lastId: null, delay: 0, timer: null };

function openEvents() {
  if (app.events) return;
  const after = eventStream.lastId ? "?after=" + encodeURIComponent(eventStream.lastId) : "";
  const es = new EventSource("/v1/events" + after);
  app.events = es;
  es.onopen = () => { eventStream.delay = 0; setLive(true); };
  es.onerror = () => {
    if (app.events !== es) return;
    setLive(false);
    if (es.readyState === EventSource.CLOSED) streamClosed(es);
  };
  es.addEventListener("job", (ev) => {
    if (ev.lastEventId) eventStream.lastId = ev.lastEventId;
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

function streamClosed(es) {
  es.close();
  app.events = null;
  checkSessionLater();
}

function checkSessionLater() {
  eventStream.delay = Math.min(30000, eventStream.delay ? eventStream.delay * 2 : 500);
  clearTimeout(eventStream.timer);
  eventStream.timer = setTimeout(checkSession, eventStream.delay);
}

async function checkSession() {
  eventStream.timer = null;
  let r;
  try { r = await api("GET", "/v1/session"); } catch (_) { r = { status: 0 }; }
  if (!app.csrf || app.events) return; // signed out, or back, meanwhile
  if (r.status === 401)
    return showSignIn("stemd ended your session (it may have restarted); sign in again.");
  if (r.status === 200 && r.body && r.body.csrf) {
    app.csrf = r.body.csrf;
    return openEvents();
  }
  checkSessionLater(); // stemd is not answering yet
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
