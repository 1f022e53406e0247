// styleforge explorer page: controls → one debounced image request; the newest request wins.
"use strict";
const $ = (id) => document.getElementById(id);
const client = Math.random().toString(36).slice(2, 12);
let seq = 0, info = null, projection = null, timer = null, controller = null, mixGroup = null;

function params(extra) {
  const p = new URLSearchParams({ seed: $("seed").value || "0", psi: $("psi").value, noise: $("noise").value });
  if (+$("cutoff").value > 0) p.set("cutoff", $("cutoff").value);
  if ($("mix-on").checked) {
    p.set("mix", $("mix-seed").value || "0");
    if (mixGroup) p.set("mixgroup", mixGroup); else p.set("crossover", $("crossover").value);
  }
  if ($("lerp-on").checked) { p.set("lerp", $("lerp-seed").value || "0"); p.set("t", $("t").value); }
  if ($("use-projection").checked && projection) p.set("projection", projection);
  if (info && info.transform) {
    for (const id of ["tx", "ty", "rot"]) if (+$(id).value !== 0) p.set(id, $(id).value);
  }
  const edits = [...document.querySelectorAll("input.edit-slider")]
    .filter((s) => +s.value !== 0).map((s) => `${s.dataset.name}:${s.value}`);
  if (edits.length) p.set("edits", edits.join(","));
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return p;
}

function setStatus(text) { $("status").textContent = text; }

async function refresh() {
  const mine = ++seq;
  if (controller) controller.abort();
  controller = new AbortController();
  const p = params({ client, seq: mine });
  try {
    const response = await fetch(`/api/image?${p}`, { signal: controller.signal });
    if (response.status === 409) return;            // superseded by a newer request
    if (!response.ok) { setStatus((await response.json()).error); return; }
    const url = URL.createObjectURL(await response.blob());
    if (mine !== seq) return;
    const old = $("image").src;
    $("image").src = url;
    $("image").dataset.seq = String(mine);
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    setStatus("");
    const plain = params();
    $("download-image").href = url;
    $("download-wplus").href = `/api/latent?${plain}&space=wplus`;
    $("download-s").href = `/api/latent?${plain}&space=s`;
    refreshFeatures(plain);
  } catch (e) {
    if (e.name !== "AbortError") setStatus(String(e));
  }
}

function refreshFeatures(plain) {
  const layer = $("layer").value;
  if (layer) $("features").src = `/api/features?${plain}&layer=${encodeURIComponent(layer)}`;
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 60);                   // debounce slider drags
}

function output(id, text) { $(`${id}-value`).textContent = text; }

function stepSeed(delta) {
  const max = info ? info.max_seed : 4294967295;
  $("seed").value = String(Math.min(max, Math.max(0, (+$("seed").value || 0) + delta)));
  schedule();
}

async function project() {
  const file = $("upload").files[0];
  if (!file) { $("project-status").textContent = "choose an image first"; return; }
  const response = await fetch(`/api/project?steps=${$("steps").value}`, { method: "POST", body: file });
  const reply = await response.json();
  if (!response.ok) { $("project-status").textContent = reply.error; return; }
  const id = reply.id;
  const poll = async () => {
    const state = await (await fetch(`/api/project/${id}`)).json();
    $("progress").max = state.steps; $("progress").value = state.step;
    $("project-status").textContent = state.error ? state.error
      : `${state.step}/${state.steps}` + (state.distance !== null
        ? ` ${info.projection_distance} distance ${state.distance.toFixed(3)}` : "");
    if (!state.done) { setTimeout(poll, 300); return; }
    if (!state.error) {
      projection = id;
      $("use-projection").disabled = false;
      $("use-projection").checked = true;
      $("project-status").textContent += " — done";
      schedule();
    }
  };
  poll();
}

async function start() {
  info = await (await fetch("/api/info")).json();
  $("model").textContent = `${info.family} · ${info.resolution} px · W+ ${info.num_ws}×${info.w_dim}`;
  for (const mode of info.noise_modes) $("noise").add(new Option(mode, mode));
  for (const layer of info.feature_layers) $("layer").add(new Option(layer, layer));
  $("cutoff").max = info.num_ws; $("crossover").max = info.num_ws;
  $("crossover").value = Math.floor(info.num_ws / 2); output("crossover", $("crossover").value);
  $("steps").max = info.max_projection_steps;
  $("distance-kind").textContent = info.projection_distance === "lpips"
    ? "distance: LPIPS-VGG16 (as the reference projector)" : "distance: pixel MSE + (1 − SSIM)";
  for (const [name, rows] of Object.entries(info.layer_groups)) {
    const button = document.createElement("button");
    button.type = "button"; button.textContent = name; button.id = `preset-${name}`;
    button.title = `${name} styles (W+ rows ${rows[0]}–${rows[rows.length - 1]}) from the second seed`;
    button.onclick = () => {
      $("mix-on").checked = true; mixGroup = name; output("crossover", `${name} rows`); schedule();
    };
    $("presets").append(button);
  }
  if (info.edits.length) $("no-edits").remove();
  for (const edit of info.edits) {
    const label = document.createElement("label");
    label.className = "edit";
    label.textContent = `${edit.name} (${edit.method}, ${edit.space}) `;
    const slider = Object.assign(document.createElement("input"),
      { type: "range", min: -info.strength_limit / 4, max: info.strength_limit / 4, step: 0.1, value: 0 });
    slider.className = "edit-slider"; slider.dataset.name = edit.name;
    slider.oninput = schedule;
    label.append(slider);
    $("edits").append(label);
  }
  const shown = new URLSearchParams(location.search).get("projection");  // e.g. serve --projected-w FILE
  if (shown) {
    projection = shown;
    $("use-projection").disabled = false;
    $("use-projection").checked = true;
  }
  for (const id of ["seed", "mix-seed", "lerp-seed", "noise", "mix-on", "lerp-on", "use-projection"])
    $(id).addEventListener("change", schedule);
  $("psi").oninput = () => { output("psi", $("psi").value); schedule(); };
  $("cutoff").oninput = () => { output("cutoff", +$("cutoff").value ? $("cutoff").value : "all"); schedule(); };
  $("crossover").oninput = () => { mixGroup = null; output("crossover", $("crossover").value); schedule(); };
  $("t").oninput = () => { output("t", $("t").value); schedule(); };
  if (info.transform) {
    $("transform").hidden = false;
    for (const id of ["tx", "ty", "rot"]) $(id).oninput = () => { output(id, $(id).value); schedule(); };
  }
  $("layer").onchange = () => refreshFeatures(params());
  $("random").onclick = () => { $("seed").value = String(Math.floor(Math.random() * 100000)); schedule(); };
  $("project").onclick = project;
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName) && e.target.type !== "checkbox";
    if (typing) return;                              // sliders and boxes keep their own arrow keys
    if (e.key === "ArrowRight") { stepSeed(1); e.preventDefault(); }
    if (e.key === "ArrowLeft") { stepSeed(-1); e.preventDefault(); }
  });
  refresh();
}

start();
