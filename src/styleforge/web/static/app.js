// styleforge explorer page. The view (seed, ψ, mixing, edits, …) lives in the controls and in the page's
// address; an image URL is a pure function of it (plus the model's tag), so the browser caches images.
// Rendering: at most one image request in flight; when it lands, the newest view is requested next, so
// a drag on a slow model keeps drawing frames and always ends on the last state.
"use strict";
const $ = (id) => document.getElementById(id);
const UNREACHABLE = "the server does not answer — is `styleforge serve` still running?";
let info = null, projection = null, inFlight = false, shownKey = null, failedKey = null, frames = 0, addressTimer = null;
const projections = {};   // id → {target: object URL of the upload or null, caption}

// -- the view ------------------------------------------------------------------------------------
function mixRows() {
  return [...document.querySelectorAll("#mix-rows input")].filter((box) => box.checked).map((box) => +box.dataset.row);
}

function setMixRows(rows) {
  for (const box of document.querySelectorAll("#mix-rows input")) box.checked = rows.includes(+box.dataset.row);
}

function showingProjection() { return Boolean(projection) && $("use-projection").checked; }

function viewParams() {
  // what the server needs for one image: every control, defaults left out
  const p = new URLSearchParams({ seed: $("seed").value || "0", psi: $("psi").value });
  if (+$("cutoff").value > 0) p.set("cutoff", $("cutoff").value);
  if (info.c_dim) p.set("class", $("class").value);
  if ($("noise").value !== "const") p.set("noise", $("noise").value);
  if ($("noise").value === "random" && $("noise-seed").value !== "") p.set("noiseseed", $("noise-seed").value);
  if ($("mix-on").checked) { p.set("mix", $("mix-seed").value || "0"); p.set("mixrows", mixRows().join(",")); }
  if ($("lerp-on").checked) { p.set("lerp", $("lerp-seed").value || "0"); p.set("t", $("t").value); }
  if (showingProjection()) p.set("projection", projection);
  if (info.transform) for (const id of ["tx", "ty", "rot"]) if (+$(id).value !== 0) p.set(id, $(id).value);
  const edits = [...document.querySelectorAll("input.edit-slider")]
    .filter((s) => +s.value !== 0).map((s) => `${s.dataset.name}:${s.value}`);
  if (edits.length) p.set("edits", edits.join(","));
  return p;
}

function api(path, params, extra) {
  const p = new URLSearchParams(params);
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  p.set("model", info.model_tag);     // pins the URL to this model: the browser may keep the answer
  return `${path}?${p}`;
}

function pageParams() {
  // the page's address: the view plus what is open
  const p = viewParams();
  if ($("features-box").open) { p.set("layer", $("layer").value); if (+$("channel").value >= 0) p.set("channel", $("channel").value); }
  if ($("gallery-box").open) p.set("gallery", "1");
  return p;
}

function applyPageParams(p) {
  // the controls from an address (reload, a shared link); unknown or out-of-range values are left to the server
  const set = (id, key) => { if (p.has(key)) $(id).value = p.get(key); };
  set("seed", "seed"); set("psi", "psi"); set("cutoff", "cutoff"); set("noise", "noise");
  set("noise-seed", "noiseseed"); set("tx", "tx"); set("ty", "ty"); set("rot", "rot");
  if (info.c_dim) set("class", "class");
  if (p.has("mix")) { $("mix-on").checked = true; set("mix-seed", "mix"); setMixRows((p.get("mixrows") || "").split(",").filter(Boolean).map(Number)); }
  if (p.has("lerp")) { $("lerp-on").checked = true; set("lerp-seed", "lerp"); set("t", "t"); }
  for (const part of (p.get("edits") || "").split(",").filter(Boolean)) {
    const at = part.lastIndexOf(":");
    const slider = document.querySelector(`input.edit-slider[data-name="${CSS.escape(part.slice(0, at))}"]`);
    if (slider) slider.value = part.slice(at + 1);
  }
  if (p.has("projection")) {
    projection = p.get("projection");
    $("use-projection").disabled = false; $("use-projection").checked = true;
  }
  if (p.has("layer")) { $("features-box").open = true; set("layer", "layer"); set("channel", "channel"); }
  if (p.get("gallery") === "1") $("gallery-box").open = true;
}

// -- drawing -------------------------------------------------------------------------------------
function setStatus(text) { $("status").textContent = text; }

async function errorText(response) {
  try { return (await response.json()).error; } catch { return `HTTP ${response.status}`; }
}

function update() {
  // every control calls this: the labels and links now, the address shortly, the image as soon as the model is free
  clearTimeout(addressTimer);
  addressTimer = setTimeout(writeAddress, 200);
  refreshLabels();
  if (!inFlight) render();
}

function writeAddress() {
  // browsers limit replaceState calls (Safari throws after 100 in 30 s), so a drag writes once it pauses
  try { history.replaceState(null, "", `?${pageParams()}`); } catch { /* the view still works; only the address lags */ }
}

async function render() {
  const key = viewParams().toString();
  if (key === shownKey || key === failedKey) return;
  inFlight = true;
  const started = performance.now();
  let shown = false;
  try {
    const url = api("/api/image", key);
    const response = await fetch(url);
    if (!response.ok) { failedKey = key; setStatus(await errorText(response)); }
    else {
      const blob = await response.blob();
      const old = $("image").src;
      $("image").src = URL.createObjectURL(blob);
      if (old.startsWith("blob:")) URL.revokeObjectURL(old);
      $("image").dataset.seq = String(++frames);
      shownKey = key; failedKey = null; shown = true;
      setStatus("");
      showTiming(response.headers.get("Server-Timing"), performance.now() - started, fromCache(url));
    }
  } catch (error) {
    failedKey = key;
    setStatus(error instanceof TypeError ? UNREACHABLE : String(error));
  } finally {
    inFlight = false;
  }
  if (viewParams().toString() !== key) render();   // the view moved on while this one rendered
  else if (shown) refreshExtras();
}

function fromCache(url) {
  // Resource Timing: nothing transferred = the browser's cache answered
  const entry = performance.getEntriesByName(new URL(url, location.href).href).pop();
  performance.clearResourceTimings();
  return Boolean(entry) && entry.transferSize === 0;
}

function showTiming(header, elapsed, cached) {
  const match = /dur=([0-9.]+)/.exec(header || "");
  $("timing").textContent = cached ? `browser cache · shown in ${elapsed.toFixed(0)} ms`
    : (match ? `model ${(+match[1]).toFixed(0)} ms · ` : "") + `shown in ${elapsed.toFixed(0)} ms`;
}

function refreshExtras() {
  // what depends on the shown image: gallery thumbnails, feature maps (only when opened)
  const view = viewParams();
  if ($("gallery-box").open) {
    const seed = +$("seed").value || 0;
    const seeds = [];
    for (let s = Math.max(0, seed - 4); seeds.length < 8; s++) if (s !== seed) seeds.push(s);
    $("gallery").replaceChildren(...seeds.map((s) => {
      const thumb = Object.assign(document.createElement("img"), { alt: `seed ${s}`, title: `seed ${s}` });
      thumb.src = api("/api/image", view, { seed: s, size: Math.min(96, info.resolution) });
      thumb.dataset.seed = String(s);
      thumb.onclick = () => { $("seed").value = String(s); update(); };
      return thumb;
    }));
  }
  if ($("features-box").open && $("layer").value) {
    const extra = { layer: $("layer").value };
    if (+$("channel").value >= 0) extra.channel = $("channel").value;
    $("features").src = api("/api/features", view, extra);
    fetch(api("/api/feature-stats", view, { layer: $("layer").value })).then(async (response) => {
      if (!response.ok) { $("feature-stats").textContent = await errorText(response); return; }
      $("feature-stats").textContent = describeStats(await response.json(), +$("channel").value);
    }).catch(() => setStatus(UNREACHABLE));
  }
}

function describeStats(stats, channel) {
  const [c, h, w] = stats.shape;
  const fmt = (x) => x.toPrecision(3);
  if (channel >= 0 && channel < c) {
    return `${stats.layer} channel ${channel}: mean ${fmt(stats.mean[channel])}, std ${fmt(stats.std[channel])}, `
      + `min ${fmt(stats.min[channel])}, max ${fmt(stats.max[channel])}`;
  }
  const order = [...stats.std.keys()].sort((a, b) => stats.std[b] - stats.std[a]).slice(0, 5);
  return `${stats.layer}: ${c} channels × ${h}×${w}; most active (std): `
    + order.map((k) => `${k} (${fmt(stats.std[k])})`).join(", ");
}

// -- labels, links, the command line -----------------------------------------------------------------
function describeRows(rows) {
  const n = info.num_ws;
  for (const [name, group] of Object.entries(info.layer_groups)) {
    if (group.length === rows.length && group.every((r, i) => r === rows[i])) return `${name} rows`;
  }
  return rows.length ? `rows ${rows.join(",")}` : "no rows";
}

function refreshLabels() {
  const projecting = showingProjection();
  for (const id of ["seed-box", "sampling", "mixing", "interpolation"]) $(id).disabled = projecting;
  $("noise-seed").disabled = $("noise").value !== "random";
  const rows = mixRows(), n = info.num_ws;
  const suffix = rows.length > 0 && rows.every((r, i) => r === n - rows.length + i) ? n - rows.length : null;
  if (suffix !== null) $("crossover").value = String(suffix);
  $("crossover").classList.toggle("inactive", suffix === null || !$("mix-on").checked);
  $("mix-rows").classList.toggle("inactive", !$("mix-on").checked);
  output("crossover", !$("mix-on").checked ? "off" : suffix !== null ? `${suffix} (rows ${suffix}–${n - 1})` : describeRows(rows));
  output("psi", $("psi").value);
  output("cutoff", +$("cutoff").value ? $("cutoff").value : "all");
  for (const id of ["t", "tx", "ty", "rot"]) output(id, $(id).value);
  for (const slider of document.querySelectorAll("input.edit-slider")) slider.nextElementSibling.textContent = slider.value;
  const p = viewParams();
  $("download-image").href = api("/api/image", p, { download: 1 });
  $("download-wplus").href = api("/api/latent", p, { space: "wplus" });
  $("download-s").href = api("/api/latent", p, { space: "s" });
  $("command").textContent = commandLine();
  const shown = projecting ? projections[projection] : null;
  $("target-figure").hidden = !(shown && shown.target);
  if (shown && shown.target) $("target").src = shown.target;
  $("image-caption").textContent = projecting ? (shown ? shown.caption : `projection ${projection}`) : "";
}

function output(id, text) { $(`${id}-value`).textContent = text; }

function quote(text) { return /^[A-Za-z0-9_./:=@,+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`; }

function commandLine() {
  // the same image from the command line; views beyond seeds + ψ go through the W+ latent download
  const model = `styleforge generate --model ${quote(info.model_name)}`;
  const plain = !showingProjection() && !$("mix-on").checked && !$("lerp-on").checked
    && ![...document.querySelectorAll("input.edit-slider")].some((s) => +s.value !== 0);
  const parts = [model];
  if (plain) {
    parts.push(`--seeds ${$("seed").value || 0} --trunc ${$("psi").value}`);
    if (+$("cutoff").value > 0) parts.push(`--trunc-cutoff ${$("cutoff").value}`);
    if (info.c_dim) parts.push(`--class ${$("class").value}`);
  } else {
    parts.push("--projected-w latent-wplus.safetensors");
  }
  if ($("noise").value !== "const") parts.push(`--noise-mode ${$("noise").value}`);
  if (info.transform && (+$("tx").value || +$("ty").value)) parts.push(`--translate ${$("tx").value},${$("ty").value}`);
  if (info.transform && +$("rot").value) parts.push(`--rotate ${$("rot").value}`);
  parts.push("--outdir out");
  let note = plain ? "" : "   # latent-wplus.safetensors: the \"latent W+\" link above";
  if ($("noise").value === "random") note += "   # random noise: other draws than the page's";
  return parts.join(" ") + note;
}

async function copyCommand() {
  const text = $("command").textContent;
  try { await navigator.clipboard.writeText(text); setStatus("command line copied"); }
  catch {                                            // no clipboard permission: select it for Ctrl-C
    const range = document.createRange(); range.selectNodeContents($("command"));
    getSelection().removeAllRanges(); getSelection().addRange(range);
    setStatus("command line selected: press Ctrl-C");
  }
}

// -- projection ----------------------------------------------------------------------------------
async function project() {
  const file = $("upload").files[0];
  if (!file) { $("project-status").textContent = "choose an image first"; return; }
  let reply, response;
  try {
    response = await fetch(`/api/project?steps=${$("steps").value}`, { method: "POST", body: file });
    reply = await response.json();
  } catch { setStatus(UNREACHABLE); return; }
  if (!response.ok) { $("project-status").textContent = reply.error; return; }
  const id = reply.id, target = URL.createObjectURL(file);
  const poll = async () => {
    let state;
    try { state = await (await fetch(`/api/project/${id}`)).json(); } catch { setStatus(UNREACHABLE); return; }
    $("progress").max = state.steps; $("progress").value = state.step;
    const distance = state.distance !== null ? `${info.projection_distance} distance ${state.distance.toFixed(3)}` : "";
    $("project-status").textContent = state.error ? state.error : `${state.step}/${state.steps} ${distance}`;
    if (!state.done) { setTimeout(poll, 300); return; }
    if (!state.error) {
      projections[id] = { target, caption: `projection (W, ${state.steps} steps, ${distance}) — ψ does not apply` };
      projection = id;
      $("use-projection").disabled = false;
      $("use-projection").checked = true;
      $("project-status").textContent += " — done";
      update();
    }
  };
  poll();
}

async function describeProjection(id) {
  // a projection named in the address (serve --projected-w FILE prints such links)
  try {
    const response = await fetch(`/api/project/${encodeURIComponent(id)}`);
    const state = await response.json();
    projections[id] = { target: null, caption: response.ok ? `projection: ${state.notes.join("; ")}` : state.error };
    refreshLabels();
  } catch { setStatus(UNREACHABLE); }
}

// -- building the page ---------------------------------------------------------------------------
function addResets() {
  // every slider: its number (an <output>), a ↺ button and double-click back to its default
  for (const slider of document.querySelectorAll("input[type=range]")) {
    const reset = Object.assign(document.createElement("button"), { type: "button", textContent: "↺", title: "reset" });
    reset.className = "reset";
    const back = () => { slider.value = slider.defaultValue; slider.dispatchEvent(new Event("input")); };
    reset.onclick = back; slider.ondblclick = back;
    (slider.nextElementSibling || slider).after(reset);
  }
}

function buildControls() {
  $("model").textContent = `${info.family} · ${info.resolution} px · W+ ${info.num_ws}×${info.w_dim}`
    + (info.c_dim ? ` · ${info.c_dim} classes` : "");
  for (const mode of info.noise_modes) $("noise").add(new Option(mode, mode));
  for (const layer of info.feature_layers) $("layer").add(new Option(layer, layer));
  if (info.c_dim) {
    $("class-box").hidden = false;
    for (let c = 0; c < info.c_dim; c++) $("class").add(new Option(String(c), String(c)));
  }
  $("psi").defaultValue = String(info.default_psi);
  $("cutoff").max = info.num_ws; $("crossover").max = info.num_ws;
  if (info.default_cutoff !== null) $("cutoff").defaultValue = String(info.default_cutoff);
  $("crossover").defaultValue = String(Math.floor(info.num_ws / 2));
  $("steps").max = info.max_projection_steps;
  $("distance-kind").textContent = info.projection_distance === "lpips"
    ? "distance: LPIPS-VGG16 (as the reference projector)" : "distance: pixel MSE + (1 − SSIM)";
  for (let row = 0; row < info.num_ws; row++) {
    const box = Object.assign(document.createElement("input"), { type: "checkbox", title: `W+ row ${row}` });
    box.dataset.row = String(row);
    box.checked = row >= Math.floor(info.num_ws / 2);
    box.onchange = () => { $("mix-on").checked = true; update(); };
    const label = document.createElement("label");
    label.className = "row"; label.append(box, String(row));
    $("mix-rows").append(label);
  }
  for (const [name, rows] of Object.entries(info.layer_groups)) {
    const button = document.createElement("button");
    button.type = "button"; button.textContent = name; button.id = `preset-${name}`;
    button.title = `${name} styles (W+ rows ${rows[0]}–${rows[rows.length - 1]}) from the second seed`;
    button.onclick = () => { $("mix-on").checked = true; setMixRows(rows); update(); };
    $("presets").append(button);
  }
  if (info.edits.length) $("no-edits").remove();
  for (const edit of info.edits) {
    const label = document.createElement("label");
    label.className = "edit";
    label.textContent = `${edit.name} (${edit.method}, ${edit.space}) `;
    label.title = `${edit.description} — ${info.methods[edit.method] || edit.method}`;
    const slider = Object.assign(document.createElement("input"),
      { type: "range", min: -info.strength_limit / 4, max: info.strength_limit / 4, step: 0.1, value: 0 });
    slider.className = "edit-slider"; slider.dataset.name = edit.name;
    slider.oninput = update;
    label.append(slider, Object.assign(document.createElement("output"), { textContent: "0" }));
    $("edits").append(label);
  }
  if (info.transform) $("transform").hidden = false;
  addResets();
}

function stepSeed(delta) {
  $("seed").value = String(Math.min(info.max_seed, Math.max(0, (+$("seed").value || 0) + delta)));
  update();
}

function wireControls() {
  for (const id of ["seed", "mix-seed", "lerp-seed", "noise", "noise-seed", "class", "mix-on", "lerp-on", "use-projection"])
    $(id).addEventListener("change", update);
  for (const id of ["psi", "cutoff", "t", "tx", "ty", "rot"]) $(id).addEventListener("input", update);
  $("crossover").oninput = () => {
    const c = +$("crossover").value;
    setMixRows([...Array(info.num_ws).keys()].filter((r) => r >= c));
    update();
  };
  const extrasChanged = () => { update(); if (!inFlight) refreshExtras(); };   // the image itself is unchanged
  $("layer").onchange = extrasChanged; $("channel").onchange = extrasChanged;
  for (const id of ["features-box", "gallery-box"]) $(id).addEventListener("toggle", extrasChanged);
  $("random").onclick = () => { $("seed").value = String(Math.floor(Math.random() * 100000)); update(); };
  $("project").onclick = project;
  $("copy-command").onclick = copyCommand;
  $("help-button").onclick = () => $("help").showModal();
  window.addEventListener("pagehide", writeAddress);   // a reload right after a change keeps it
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName) && e.target.type !== "checkbox";
    if (typing || e.ctrlKey || e.metaKey || e.altKey || $("help").open) return;  // inputs keep their own keys
    const step = e.shiftKey ? 10 : 1;
    const actions = {
      ArrowRight: () => stepSeed(step), ArrowLeft: () => stepSeed(-step), r: () => $("random").click(),
      g: () => { $("gallery-box").open = !$("gallery-box").open; }, f: () => { $("features-box").open = !$("features-box").open; },
      c: copyCommand, "?": () => $("help").showModal(),
    };
    const action = actions[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (action && !($("seed-box").disabled && e.key.startsWith("Arrow"))) { action(); e.preventDefault(); }
  });
}

async function start() {
  try { info = await (await fetch("/api/info")).json(); } catch { setStatus(UNREACHABLE); return; }
  buildControls();
  applyPageParams(new URLSearchParams(location.search));
  if (projection) describeProjection(projection);
  wireControls();
  update();
}

start();
