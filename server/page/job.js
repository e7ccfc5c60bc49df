// A job's page: its facts, its stems (player and waveform), notifications,
// events and the Retry button.
"use strict";

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

// stemd computes a few waveforms at a time and answers 503 to the rest (a
// job's stems are all asked for at once): those are asked again after a short,
// growing, jittered pause, a bounded number of times. Null when the canvas has
// left the page meanwhile.
const WAVEFORM_ATTEMPTS = 8;

async function fetchWaveform(canvas, target) {
  for (let attempt = 1; ; attempt++) {
    let r;
    try { r = await api("GET", target); } catch (_) { r = { status: 0 }; }
    if (r.status !== 503 || attempt === WAVEFORM_ATTEMPTS) return r;
    const pause = Math.min(2000, 150 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
    await new Promise((resolve) => setTimeout(resolve, pause));
    if (!canvas.isConnected) return null;
  }
}

async function drawWaveform(canvas, href) {
  const width = Math.max(200, Math.round(canvas.clientWidth || 800));
  const points = Math.min(4096, Math.max(16, Math.round(width / 3)));
  const r = await fetchWaveform(canvas, href + "/waveform?points=" + points);
  if (!r) return;
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
