// The submit form: a song by URL or as an upload, its stems and options.
"use strict";

const STEMS = ["vocals", "male_vocal", "female_vocal", "lead_vocal", "back_vocal", "guitar",
  "acoustic_guitar", "electric_guitar", "rhythm_guitar", "solo_guitar", "drums", "kick_drum",
  "snare_drum", "toms", "hi_hat", "ride", "crash", "piano", "keys", "strings", "winds", "bass",
  "instrumental"];
const PREPROCESSING = ["Denoise", "Deecho", "Dereverb"];

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
