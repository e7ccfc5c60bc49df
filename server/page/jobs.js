// The jobs table: filters with counts, keyset pages, rows updated in place by
// the event stream.
"use strict";

const PAGE_SIZE = 50;

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
