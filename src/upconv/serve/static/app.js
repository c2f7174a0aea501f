/* upconv explorer: the front end of `upconv serve` (vanilla JS + inline SVG, no build step).
 *
 * Every number on the page comes from the JSON API (POST /api/explain, /api/solve, /api/code,
 * /api/checkerboard, /api/matrix; GET /api/meta, /api/image); this file only draws it.
 *
 * Stable hooks (for tests and for people poking at the page):
 *   #op                    select: the operation (conv, conv_transpose, max_pool, avg_pool,
 *                          max_unpool, unpool, interpolate, pixel_shuffle)
 *   #view                  select: the view (conv_transpose: scatter | direct)
 *   input[name=nd]         radios 1 | 2: number of spatial dimensions
 *   #values, #seed         values mode (none | range | random) and the random seed
 *   #input_values, #kernel_values  explicit numbers ("1,2,3,4"; one number fills the array)
 *   input[name=<param><d>] range sliders, one per spatial dimension d (0 = rows, 1 = cols;
 *                          while #link is on in 2-d only ...0 is drawn and it drives both):
 *                          input_size0, kernel_size0, stride0, padding0, dilation0,
 *                          output_padding0, size0, scale_factor0 (and ...1 in 2-d);
 *                          each has a number readout input[data-for=<same name>]
 *   input[name=<param>]    scalar sliders: upscale_factor, in_channels, out_channels, groups
 *   #link                  checkbox: moving a dimension's slider moves the other one too
 *   input[name=output_size], select[name=mode|position|resize_by],
 *   input[name=ceil_mode|count_include_pad|align_corners]   the op's other parameters
 *   #target, #solve, input[name=hold], #solutions button[data-solution=i], #solve-message
 *   svg#src [data-cell]    source-canvas cells (flat row-major index in the canvas), data-kind =
 *                          input | pad | zero | crop | outside
 *   svg#kernel [data-cell] kernel taps (flat index), data-kind = tap
 *   svg#dst [data-cell]    destination-canvas cells, data-kind = output | extra | crop;
 *                          data-value = the number the cell shows ('' when none)
 *   class "hl"             cells related to the hovered / pinned cell (contributing inputs and
 *                          kernel taps of an output cell; output cells an input cell reaches)
 *   class "focus"          the hovered / pinned cell itself; "pinned" when pinned
 *   class "cur"            cells of the current animation step; "done" on written output cells
 *   #formula               the hovered cell's formula (the API's `formulas`)
 *   #play, #prev, #next, #scrub (range over 0..steps; 0 = nothing done, n = all done),
 *   #speed (0..6 -> 0.5..32 steps/s), #step-text (steps[i].text), #step-count ("i / n");
 *                          keys: ← / → step, space plays, Esc unpins
 *   #shapes (one div per line), #params, #channels, svg#groups
 *   #code-tabs button[data-fw=torch|keras|jax|onnx|upconv], #code-text, #code-notes, #copy
 *   svg#checker [data-cell] (data-count), #checker-text, #layers, #method
 *   #mat-tabs button[data-mat=C|CT], svg#matrix, #matrix-text
 *   details#image-panel (fetches GET /api/image when opened), #img, #factor, #images img
 *   #error                 the visible error box (400/422 `detail` of the API); hidden if none
 *   body[data-busy]        "1" while a request for the picture is in flight, else "0";
 *   body[data-ready]       "1" once the first picture is drawn (and after every redraw)
 *
 * URL state (query string, kept up to date with history.replaceState; loading restores it):
 *   op, view, nd, input_size, kernel_size, stride, padding, dilation, output_padding,
 *   output_size, size, scale_factor, resize_by, mode, align_corners, position, ceil_mode,
 *   count_include_pad, upscale_factor, in_channels, out_channels, groups, values, seed,
 *   input_values, kernel_values,
 *   link, step, speed, pin (dst:<flat> | src:<flat>), tab, mat, layers, method, target, hold,
 *   img, factor.  Lists are comma-separated ("3,3"); booleans are 1 / 0.
 */
"use strict";

// ---------------------------------------------------------------------------------------------
// Parameters

const LISTS = {
  input_size: { label: "input size", min: 1, max: 64, step: 1 },
  kernel_size: { label: "kernel size", min: 1, max: 16, step: 1 },
  stride: { label: "stride", min: 1, max: 8, step: 1 },
  padding: { label: "padding", min: 0, max: 16, step: 1 },
  dilation: { label: "dilation", min: 1, max: 8, step: 1 },
  output_padding: { label: "output padding", min: 0, max: 7, step: 1 },
  size: { label: "size", min: 1, max: 128, step: 1 },
  scale_factor: { label: "scale factor", min: 0.25, max: 8, step: 0.25 },
};
const SCALARS = {
  upscale_factor: { label: "upscale factor r", min: 1, max: 8 },
  in_channels: { label: "in channels", min: 1, max: 64 },
  out_channels: { label: "out channels", min: 1, max: 64 },
  groups: { label: "groups", min: 1, max: 64 },
};
const CHANNEL_PARAMS = ["in_channels", "out_channels", "groups"];
const BOOLS = ["ceil_mode", "count_include_pad", "align_corners"];
const CHOICES = {
  mode: ["nearest", "nearest-exact", "linear", "bilinear"],
  position: ["top-left", "center"],
  resize_by: ["scale_factor", "size"],
};
// Used only when GET /api/meta does not say which parameters an op takes.
const FALLBACK_TAKES = {
  conv: ["kernel_size", "stride", "padding", "dilation", "groups", "in_channels", "out_channels"],
  conv_transpose: ["kernel_size", "stride", "padding", "dilation", "output_padding",
    "output_size", "groups", "in_channels", "out_channels"],
  max_pool: ["kernel_size", "stride", "padding", "dilation", "ceil_mode"],
  avg_pool: ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"],
  max_unpool: ["kernel_size", "stride", "padding", "output_size"],
  unpool: ["kernel_size", "position"],
  interpolate: ["mode", "scale_factor", "size", "align_corners"],
  pixel_shuffle: ["upscale_factor"],
};
// Applied when the user picks an op in the selector (not when a URL is loaded).
const PRESETS = {
  conv: { kernel_size: 3, stride: 1, padding: 0, dilation: 1 },
  conv_transpose: { kernel_size: 3, stride: 2, padding: 1, dilation: 1, output_padding: 1 },
  max_pool: { kernel_size: 2, stride: 2, padding: 0, dilation: 1 },
  avg_pool: { kernel_size: 2, stride: 2, padding: 0 },
  max_unpool: { kernel_size: 2, stride: 2, padding: 0 },
  unpool: { kernel_size: 2 },
  interpolate: { scale_factor: 2, size: 8 },
  pixel_shuffle: { upscale_factor: 2 },
};
const SPEEDS = [0.5, 1, 2, 4, 8, 16, 32];
const FRAMEWORKS = ["torch", "keras", "jax", "onnx", "upconv"];
const KERNEL_OPS = ["conv", "conv_transpose"];
const prod = (list) => list.reduce((a, b) => a * b, 1);

const DEFAULTS = {
  op: "conv_transpose", view: "scatter", nd: 2,
  input_size: [4, 4], kernel_size: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1],
  output_padding: [1, 1], size: [8, 8], scale_factor: [2, 2],
  output_size: "", resize_by: "scale_factor", mode: "nearest", align_corners: false,
  position: "top-left", ceil_mode: false, count_include_pad: true,
  upscale_factor: 2, in_channels: 1, out_channels: 1, groups: 1,
  values: "range", seed: 0, link: true, input_values: "", kernel_values: "",
  step: null, speed: 3, pin: null, tab: "torch", mat: "C", layers: 1, method: "transposed",
  target: "", hold: [], img: "camera", factor: 2,
};

const state = JSON.parse(JSON.stringify(DEFAULTS));
let meta = null;       // GET /api/meta
let cur = null;        // the last POST /api/explain reply
let codeData = null;   // the last POST /api/code reply
let matData = null;    // the last POST /api/matrix reply

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const SVGNS = "http://www.w3.org/2000/svg";

function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

/** A number as a cell shows it: integers without a point, others to 4 significant digits. */
function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v)) return String(v);
  const t = String(Number(v.toPrecision(4)));
  return t === "-0" ? "0" : t;
}

function takes(op) {
  const m = meta && meta.ops && meta.ops[op];
  return (m && Array.isArray(m.params)) ? m.params : (FALLBACK_TAKES[op] || []);
}
function viewsOf(op) {
  const m = meta && meta.ops && meta.ops[op];
  if (m && Array.isArray(m.views)) return m.views;
  return op === "conv_transpose" ? ["scatter", "direct"] : [];
}
const isLinearMode = (m) => m === "linear" || m === "bilinear";
const nd = () => state.nd;
const dims = (list) => list.slice(0, nd());

function fitList(list, n, fill) {
  const out = list.slice(0, n);
  while (out.length < n) out.push(out.length ? out[out.length - 1] : fill);
  return out;
}

// ---------------------------------------------------------------------------------------------
// URL state

function parseList(text, isFloat) {
  const parts = String(text).split(/[,x×]/).map((s) => s.trim()).filter((s) => s !== "");
  const nums = parts.map((s) => (isFloat ? parseFloat(s) : parseInt(s, 10)));
  return nums.length && nums.every((v) => Number.isFinite(v)) ? nums : null;
}

function readUrl() {
  const q = new URLSearchParams(location.search);
  const get = (k) => (q.has(k) ? q.get(k) : null);
  if (get("op")) state.op = get("op");
  if (get("view")) state.view = get("view");
  if (get("nd")) state.nd = get("nd") === "1" ? 1 : 2;
  for (const name of Object.keys(LISTS)) {
    const v = get(name);
    if (v === null) continue;
    const list = parseList(v, name === "scale_factor");
    if (list) {
      if (!q.has("nd")) state.nd = Math.min(2, list.length);
      state[name] = fitList(list, 2, list[0]);
      if (list.length === 1) state[name] = [list[0], list[0]];
    }
  }
  for (const name of Object.keys(SCALARS)) {
    const v = get(name);
    if (v !== null && Number.isFinite(parseInt(v, 10))) state[name] = parseInt(v, 10);
  }
  for (const name of BOOLS) {
    const v = get(name);
    if (v !== null) state[name] = v === "1" || v === "true";
  }
  for (const name of Object.keys(CHOICES)) {
    const v = get(name);
    if (v !== null) state[name] = v;
  }
  for (const name of ["output_size", "target", "values", "tab", "mat", "method", "img",
    "input_values", "kernel_values"]) {
    const v = get(name);
    if (v !== null) state[name] = v;
  }
  for (const name of ["seed", "speed", "layers", "factor"]) {
    const v = get(name);
    if (v !== null && Number.isFinite(parseInt(v, 10))) state[name] = parseInt(v, 10);
  }
  if (get("step") !== null) state.step = parseInt(get("step"), 10);
  if (get("pin")) state.pin = get("pin");
  if (get("hold") !== null) state.hold = get("hold").split(",").filter(Boolean);
  if (get("link") !== null) state.link = get("link") !== "0";
  else if (state.nd === 2) {
    // a URL with different per-dimension values unlinks the sliders
    state.link = Object.keys(LISTS).every((n) => state[n][0] === state[n][1]);
  }
}

function urlQuery() {
  const q = new URLSearchParams();
  const t = takes(state.op);
  q.set("op", state.op);
  if (viewsOf(state.op).length > 1) q.set("view", state.view);
  q.set("nd", String(state.nd));
  q.set("input_size", dims(state.input_size).join(","));
  for (const name of Object.keys(LISTS)) {
    if (name !== "input_size" && t.includes(name)) q.set(name, dims(state[name]).join(","));
  }
  if (state.op === "interpolate") q.set("resize_by", state.resize_by);
  for (const name of Object.keys(SCALARS)) if (t.includes(name)) q.set(name, String(state[name]));
  for (const name of BOOLS) if (t.includes(name)) q.set(name, state[name] ? "1" : "0");
  for (const name of ["mode", "position"]) if (t.includes(name)) q.set(name, state[name]);
  if (t.includes("output_size") && state.output_size) q.set("output_size", state.output_size);
  q.set("values", state.values);
  if (state.values === "random") q.set("seed", String(state.seed));
  if (state.input_values) q.set("input_values", state.input_values);
  if (state.kernel_values && KERNEL_OPS.includes(state.op)) q.set("kernel_values", state.kernel_values);
  if (!state.link) q.set("link", "0");
  if (state.step !== null) q.set("step", String(state.step));
  q.set("speed", String(state.speed));
  if (state.pin) q.set("pin", state.pin);
  q.set("tab", state.tab);
  q.set("mat", state.mat);
  q.set("layers", String(state.layers));
  q.set("method", state.method);
  if (state.target) q.set("target", state.target);
  if (state.hold.length) q.set("hold", state.hold.join(","));
  if ($("#image-panel").open) {
    q.set("img", state.img);
    q.set("factor", String(state.factor));
  }
  return q.toString();
}

// Throttled, not debounced: the URL is at most 150 ms behind the state, however busy the page
// is, and history.replaceState is called at most ~7 times a second (browsers cap its rate).
let urlTimer = null;
function saveUrl() {
  if (urlTimer) return;
  urlTimer = setTimeout(() => {
    urlTimer = null;
    const url = location.pathname + "?" + urlQuery();
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  }, 150);
}

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function formatDetail(data, status) {
  const d = data && data.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) {
    return d.map((e) => {
      const loc = Array.isArray(e.loc) ? e.loc.filter((x) => x !== "body").join(".") : "";
      return (loc ? loc + ": " : "") + (e.msg || JSON.stringify(e));
    }).join("; ");
  }
  if (d !== undefined && d !== null) return JSON.stringify(d);
  return `HTTP ${status}: the server gave no explanation`;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${e.message}); is upconv serve running?`);
  }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) throw new ApiError(r.status, formatDetail(data, r.status));
  return data;
}

function showError(where, err) {
  const box = $("#error");
  if (!err) {
    if (box.dataset.where === where) { box.hidden = true; box.textContent = ""; box.dataset.where = ""; }
    return;
  }
  box.hidden = false;
  box.dataset.where = where;
  const status = err.status ? ` (${err.status})` : "";
  box.innerHTML = `<strong>${esc(where)}${esc(status)}:</strong> ${esc(err.message)}`;
}

/** The request body (`Params` of the contract) for the current state. */
function paramsBody() {
  const t = takes(state.op);
  const b = { op: state.op, input_size: dims(state.input_size), values: state.values };
  if (state.values === "random") b.seed = state.seed;
  const views = viewsOf(state.op);
  if (views.length > 1) b.view = views.includes(state.view) ? state.view : views[0];
  for (const name of ["kernel_size", "stride", "padding", "dilation", "output_padding"]) {
    if (t.includes(name)) b[name] = dims(state[name]);
  }
  if (state.op === "interpolate") {
    if (state.resize_by === "size") b.size = dims(state.size);
    else b.scale_factor = dims(state.scale_factor);
  } else {
    if (t.includes("size")) b.size = null;
  }
  if (t.includes("output_size")) {
    const list = parseList(state.output_size || "", false);
    if (list) b.output_size = fitList(list, nd(), list[0]);
  }
  for (const name of Object.keys(SCALARS)) if (t.includes(name)) b[name] = state[name];
  // explicit values: one number fills the array, else the list as typed (the server checks it)
  const deep = state.op === "pixel_shuffle" ? state.upscale_factor ** nd() : 1;
  const iv = parseList(state.input_values || "", true);
  if (iv) b.input_values = iv.length === 1 ? new Array(deep * prod(b.input_size)).fill(iv[0]) : iv;
  const kv = parseList(state.kernel_values || "", true);
  if (kv && KERNEL_OPS.includes(state.op)) {
    b.kernel_values = kv.length === 1 ? new Array(prod(b.kernel_size)).fill(kv[0]) : kv;
  }
  for (const name of ["ceil_mode", "count_include_pad"]) if (t.includes(name)) b[name] = state[name];
  if (t.includes("align_corners")) b.align_corners = isLinearMode(state.mode) ? state.align_corners : null;
  for (const name of ["mode", "position"]) if (t.includes(name)) b[name] = state[name];
  return b;
}

// ---------------------------------------------------------------------------------------------
// Controls

function sliderHtml(name, label, spec, value) {
  const step = spec.step || 1;
  return `<div class="slider"><label for="sl-${name}">${esc(label)}</label>` +
    `<input type="range" id="sl-${name}" name="${name}" min="${spec.min}" max="${spec.max}" step="${step}" value="${value}">` +
    `<input type="number" class="readout" data-for="${name}" min="${spec.min}" max="${spec.max}" step="${step}" value="${value}" aria-label="${esc(label)}"></div>`;
}

const DIM_NAMES = ["rows", "cols"];

function buildSliders() {
  const t = takes(state.op);
  const box = $("#sliders");
  let html = "<h3>parameters</h3>";
  const lists = ["input_size", "kernel_size", "stride", "padding", "dilation", "output_padding"]
    .filter((n) => n === "input_size" || t.includes(n));
  if (state.op === "interpolate") {
    html += `<label class="row">resize by <select name="resize_by">` +
      CHOICES.resize_by.map((c) => `<option${c === state.resize_by ? " selected" : ""}>${c}</option>`).join("") +
      `</select></label>`;
    lists.push(state.resize_by === "size" ? "size" : "scale_factor");
  }
  if (state.nd === 2) {
    html += `<label class="row small"><input type="checkbox" id="link"${state.link ? " checked" : ""}> same value for rows and cols</label>`;
  }
  for (const name of lists) {
    const spec = LISTS[name];
    // linked 2-d: one slider (…0) drives both dimensions
    const shown = state.nd === 2 && state.link ? 1 : state.nd;
    for (let d = 0; d < shown; d++) {
      const label = shown === 2 ? `${spec.label} (${DIM_NAMES[d]})` : spec.label;
      html += sliderHtml(name + d, label, spec, state[name][d]);
    }
  }
  for (const name of Object.keys(SCALARS)) {
    if (t.includes(name) && !CHANNEL_PARAMS.includes(name)) {
      html += sliderHtml(name, SCALARS[name].label, SCALARS[name], state[name]);
    }
  }
  for (const name of ["mode", "position"]) {
    if (!t.includes(name)) continue;
    html += `<label class="row">${name} <select name="${name}">` +
      CHOICES[name].map((c) => `<option${c === state[name] ? " selected" : ""}>${c}</option>`).join("") +
      `</select></label>`;
  }
  for (const name of BOOLS) {
    if (!t.includes(name)) continue;
    if (name === "align_corners" && !isLinearMode(state.mode)) continue;
    html += `<label class="row small"><input type="checkbox" name="${name}"${state[name] ? " checked" : ""}> ${name}</label>`;
  }
  if (t.includes("output_size")) {
    html += `<label class="row">output_size <input type="text" name="output_size" size="8" placeholder="auto" value="${esc(state.output_size)}"></label>`;
  }
  box.innerHTML = html;

  // channels (conv / conv_transpose): their own controls beside the connectivity diagram
  const ch = $("#channel-controls");
  const chNames = CHANNEL_PARAMS.filter((n) => t.includes(n));
  $("#channels-panel").hidden = chNames.length === 0;
  ch.innerHTML = chNames.map((n) => sliderHtml(n, SCALARS[n].label, SCALARS[n], state[n])).join("");

  // view selector and dimension radios
  const views = viewsOf(state.op);
  $("#view").innerHTML = views.map((v) => `<option${v === state.view ? " selected" : ""}>${v}</option>`).join("");
  $("#view-row").hidden = views.length < 2;
  if (views.length && !views.includes(state.view)) state.view = views[0];
  $("#op").value = state.op;
  $$("input[name=nd]").forEach((r) => { r.checked = Number(r.value) === state.nd; });
  $("#values").value = state.values;
  $("#seed").value = state.seed;
  $("#input_values").value = state.input_values;
  $("#kernel_values").value = state.kernel_values;
  $("#kernel-values-row").hidden = !KERNEL_OPS.includes(state.op);
  $("#seed-row").hidden = state.values !== "random";
  $("#solver").hidden = !(state.op === "conv" || state.op === "conv_transpose");
  $("#target").value = state.target;
  $$("input[name=hold]").forEach((c) => { c.checked = state.hold.includes(c.value); });
  $("#speed").value = state.speed;
  $("#speed-out").textContent = `${SPEEDS[state.speed]}/s`;
  $("#layers").value = String(state.layers);
  $("#method").value = state.method;
}

function setListValue(name, d, value) {
  state[name][d] = value;
  if (state.link && state.nd === 2) state[name][1 - d] = value;
  for (let e = 0; e < state.nd; e++) {
    const el = $(`input[name=${name}${e}]`);
    if (el) el.value = state[name][e];
    const ro = $(`input[data-for=${name}${e}]`);
    if (ro) ro.value = state[name][e];
  }
}

function onSliderValue(fullName, raw) {
  const m = /^([a-z_]+?)([01])$/.exec(fullName);
  if (m && LISTS[m[1]]) {
    const spec = LISTS[m[1]];
    let v = m[1] === "scale_factor" ? parseFloat(raw) : parseInt(raw, 10);
    if (!Number.isFinite(v)) return;
    v = Math.min(spec.max, Math.max(spec.min, v));
    setListValue(m[1], Number(m[2]), v);
  } else if (SCALARS[fullName]) {
    let v = parseInt(raw, 10);
    if (!Number.isFinite(v)) return;
    v = Math.min(SCALARS[fullName].max, Math.max(SCALARS[fullName].min, v));
    state[fullName] = v;
    const el = $(`input[name=${fullName}]`);
    if (el) el.value = v;
    const ro = $(`input[data-for=${fullName}]`);
    if (ro) ro.value = v;
  } else {
    return;
  }
  changed();
}

function wireControls() {
  const paramHost = (ev) => {
    const el = ev.target;
    if (el.matches("input[type=range][name]")) return onSliderValue(el.name, el.value);
    if (el.matches("input.readout")) return onSliderValue(el.dataset.for, el.value);
    if (el.id === "link") {
      state.link = el.checked;
      if (state.link) for (const n of Object.keys(LISTS)) state[n][1] = state[n][0];
      buildSliders();
      return changed();
    }
    if (el.matches("input[type=checkbox][name]")) { state[el.name] = el.checked; return changed(); }
    if (el.matches("select[name]")) {
      state[el.name] = el.value;
      if (el.name === "mode" || el.name === "resize_by") buildSliders();
      return changed();
    }
    if (el.matches("input[name=output_size]") && ev.type === "change") {
      state.output_size = el.value.trim();
      return changed();
    }
    return undefined;
  };
  for (const host of [$("#sliders"), $("#channel-controls")]) {
    host.addEventListener("input", paramHost);
    host.addEventListener("change", (ev) => {
      if (ev.target.matches("input[name=output_size]")) paramHost(ev);
    });
  }
  $("#op").addEventListener("change", (ev) => {
    state.op = ev.target.value;
    const preset = PRESETS[state.op] || {};
    for (const [k, v] of Object.entries(preset)) {
      state[k] = LISTS[k] ? [v, v] : v;
    }
    state.output_size = "";
    state.pin = null;
    state.step = null;
    const views = viewsOf(state.op);
    state.view = views[0] || "gather";
    buildSliders();
    changed();
  });
  $("#view").addEventListener("change", (ev) => { state.view = ev.target.value; state.step = null; changed(); });
  $$("input[name=nd]").forEach((r) => r.addEventListener("change", () => {
    const n = Number(r.value);
    if (n === state.nd) return;
    state.nd = n;
    for (const name of Object.keys(LISTS)) state[name] = [state[name][0], state[name][0]];
    state.pin = null;
    buildSliders();
    changed();
  }));
  $("#values").addEventListener("change", (ev) => {
    state.values = ev.target.value;
    $("#seed-row").hidden = state.values !== "random";
    changed();
  });
  for (const name of ["input_values", "kernel_values"]) {
    $("#" + name).addEventListener("change", (ev) => { state[name] = ev.target.value.trim(); changed(); });
  }
  $("#seed").addEventListener("change", (ev) => {
    const v = parseInt(ev.target.value, 10);
    state.seed = Number.isFinite(v) && v >= 0 ? v : 0;
    changed();
  });

  // animation
  $("#play").addEventListener("click", togglePlay);
  $("#prev").addEventListener("click", () => { pause(); gotoStep(shownStep() - 1); });
  $("#next").addEventListener("click", () => { pause(); gotoStep(shownStep() + 1); });
  $("#scrub").addEventListener("input", (ev) => { pause(); gotoStep(Number(ev.target.value)); });
  $("#speed").addEventListener("input", (ev) => {
    state.speed = Number(ev.target.value);
    $("#speed-out").textContent = `${SPEEDS[state.speed]}/s`;
    if (timer) { pause(); play(); }
    saveUrl();
  });

  // hover / pin
  for (const id of ["src", "dst", "kernel"]) {
    const svg = $("#" + id);
    svg.addEventListener("mouseover", (ev) => {
      const cell = ev.target.closest("[data-cell]");
      if (!cell || state.pin) return;
      relate(id, Number(cell.dataset.cell), false);
    });
    svg.addEventListener("mouseleave", () => { if (!state.pin) relate(null); });
    svg.addEventListener("click", (ev) => {
      const cell = ev.target.closest("[data-cell]");
      if (!cell) return;
      const key = `${id}:${cell.dataset.cell}`;
      if (state.pin === key) { state.pin = null; relate(id, Number(cell.dataset.cell), false); }
      else { state.pin = key; relate(id, Number(cell.dataset.cell), true); }
      saveUrl();
    });
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && state.pin) { state.pin = null; relate(null); saveUrl(); return; }
    // arrows step, space plays, unless the user is typing in a field
    const typing = ev.target.closest && ev.target.closest("input, select, textarea");
    if (typing || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === "ArrowRight") { pause(); gotoStep(shown + 1); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft") { pause(); gotoStep(shown - 1); ev.preventDefault(); }
    else if (ev.key === " " && ev.target === document.body) { togglePlay(); ev.preventDefault(); }
  });

  // solver
  $("#solve").addEventListener("click", solve);
  $("#target").addEventListener("keydown", (ev) => { if (ev.key === "Enter") solve(); });
  $("#target").addEventListener("change", (ev) => { state.target = ev.target.value.trim(); saveUrl(); });
  $$("input[name=hold]").forEach((c) => c.addEventListener("change", () => {
    state.hold = $$("input[name=hold]").filter((x) => x.checked).map((x) => x.value);
    saveUrl();
  }));
  $("#solutions").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-solution]");
    if (b) applySolution(Number(b.dataset.solution));
  });

  // panels
  $("#code-tabs").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-fw]");
    if (!b) return;
    state.tab = b.dataset.fw;
    renderCode();
    saveUrl();
  });
  $("#copy").addEventListener("click", copyCode);
  $("#mat-tabs").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-mat]");
    if (!b) return;
    state.mat = b.dataset.mat;
    renderMatrix();
    saveUrl();
  });
  $("#layers").addEventListener("change", (ev) => { state.layers = Number(ev.target.value); refreshChecker(); saveUrl(); });
  $("#method").addEventListener("change", (ev) => { state.method = ev.target.value; refreshChecker(); saveUrl(); });
  $("#image-panel").addEventListener("toggle", () => { if ($("#image-panel").open) loadImage(); saveUrl(); });
  $("#img").addEventListener("change", (ev) => { state.img = ev.target.value; loadImage(); saveUrl(); });
  $("#factor").addEventListener("change", (ev) => { state.factor = Number(ev.target.value); loadImage(); saveUrl(); });
  window.addEventListener("resize", () => { if (cur) { clearTimeout(resizeTimer); resizeTimer = setTimeout(renderExplain, 150); } });
}
let resizeTimer = null;

let refreshTimer = null;
function changed() {
  saveUrl();
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 90);
}

// ---------------------------------------------------------------------------------------------
// Grids

/** Cells per row and column of a canvas shape (a 1-d canvas is one row). */
function gridDims(shape) {
  return shape.length === 1 ? [1, shape[0]] : [shape[0], shape[1]];
}

function coordText(lo, shape, flat) {
  if (shape.length === 1) return String(lo[0] + flat);
  const i = Math.floor(flat / shape[1]);
  const j = flat % shape[1];
  return `${lo[0] + i}, ${lo[1] + j}`;
}

/** A light fill per channel label ("c3") so pixel shuffle's tiles stand apart. */
function tint(label) {
  const m = /^c(\d+)$/.exec(label || "");
  return m ? ` style="fill:hsl(${(Number(m[1]) * 67 + 200) % 360},70%,88%)"` : "";
}

/** Draw a canvas into `svg`; return the per-cell <g> and <text> elements. */
function drawGrid(svg, opts) {
  const { shape, lo, kinds, cs, labels } = opts;
  const [rows, cols] = gridDims(shape);
  const showIdx = cs >= 13 && lo;
  const ml = showIdx ? (shape.length === 1 ? 4 : 22) : 2;
  const mt = showIdx ? 14 : 2;
  const fs = Math.max(7, Math.min(13, Math.floor(cs * 0.42)));
  const parts = [];
  if (showIdx) {
    const colLo = shape.length === 1 ? lo[0] : lo[1];
    for (let j = 0; j < cols; j++) {
      parts.push(`<text class="idx" x="${ml + j * cs + cs / 2}" y="${mt - 4}">${colLo + j}</text>`);
    }
    if (shape.length === 2) {
      for (let i = 0; i < rows; i++) {
        parts.push(`<text class="idx" x="${ml - 4}" y="${mt + i * cs + cs / 2 + 3}" text-anchor="end">${lo[0] + i}</text>`);
      }
    }
  }
  for (let f = 0; f < rows * cols; f++) {
    const i = Math.floor(f / cols);
    const j = f % cols;
    const x = ml + j * cs;
    const y = mt + i * cs;
    const kind = kinds ? kinds[f] : "tap";
    const lab = labels && labels[f] ? `<text class="lab" x="${x + 2}" y="${y + Math.max(6, fs * 0.75)}">${esc(labels[f])}</text>` : "";
    // no per-cell <title> or empty <text> on big canvases: 16k cells must draw quickly
    parts.push(
      `<g class="cell k-${kind}" data-cell="${f}" data-kind="${kind}" data-value="">` +
      `<rect x="${x + 0.5}" y="${y + 0.5}" width="${cs - 1}" height="${cs - 1}" rx="${cs >= 10 ? 2 : 0}"${tint(labels && labels[f])}></rect>${lab}` +
      (cs >= 12 ? `<text class="v" x="${x + cs / 2}" y="${y + cs / 2 + fs * 0.36 + (lab ? fs * 0.2 : 0)}" style="font-size:${fs}px"></text>` : "") +
      "</g>"
    );
  }
  const w = ml + cols * cs + 2;
  const h = mt + rows * cs + 2;
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.classList.toggle("tiny", cs < 10);
  svg.innerHTML = parts.join("");
  const cells = $$("[data-cell]", svg);
  return { cells, texts: cs >= 12 ? cells.map((g) => g.lastElementChild) : null, cs, fs };
}

function setCellText(grid, f, value) {
  const text = fmt(value);
  const g = grid.cells[f];
  if (g.dataset.value === text) return;
  g.dataset.value = text;
  if (!grid.texts) return;  // too small for numbers: data-value only
  const t = grid.texts[f];
  t.textContent = text;
  // shrink long numbers so they fit the cell
  const room = grid.cs - 3;
  const want = text.length * grid.fs * 0.62;
  t.style.fontSize = want > room ? `${Math.max(6, Math.floor(grid.fs * room / want))}px` : `${grid.fs}px`;
}

// ---------------------------------------------------------------------------------------------
// The picture and its animation

let G = { src: null, dst: null, kernel: null };
let rev = [];          // src flat -> {dst: Set, taps: Set}
let acc = [];          // running sums per dst cell
let written = [];      // whether a dst cell has been written
let shown = 0;         // steps applied to acc
let gather = false;    // one dst cell per step, finished at once

function cellSize(data) {
  const [sr, sc] = gridDims(data.src.shape);
  const [dr, dc] = gridDims(data.dst.shape);
  const kc = data.kernel ? gridDims(data.kernel.shape)[1] : 0;
  const width = Math.max(400, $("#canvases").clientWidth - 40);
  const byWidth = Math.floor((width - 60) / (sc + dc + kc + 3));
  const byHeight = Math.floor(520 / Math.max(sr, dr));
  return Math.max(5, Math.min(40, byWidth, byHeight));
}

function renderExplain() {
  const data = cur;
  if (!data) return;
  pause();
  $("#title").textContent = data.title || "";
  $("#src-name").textContent = data.src.name || "input";
  $("#dst-name").textContent = data.dst.name || "output";
  const cs = cellSize(data);
  G.src = drawGrid($("#src"), { shape: data.src.shape, lo: data.src.lo, kinds: data.src.kinds, cs, labels: data.src.labels });
  G.dst = drawGrid($("#dst"), { shape: data.dst.shape, lo: data.dst.lo, kinds: data.dst.kinds, cs });
  if (data.kernel) {
    $("#kernel-fig").hidden = false;
    const kcs = Math.max(20, Math.min(cs, 40));
    G.kernel = drawGrid($("#kernel"), { shape: data.kernel.shape, lo: data.kernel.shape.map(() => 0), kinds: null, cs: kcs });
    if (data.kernel.values) data.kernel.values.forEach((v, f) => setCellText(G.kernel, f, v));
  } else {
    $("#kernel-fig").hidden = true;
    $("#kernel").innerHTML = "";
    G.kernel = null;
  }
  if (data.src.values) data.src.values.forEach((v, f) => setCellText(G.src, f, v));

  // reverse map: which dst cells and kernel taps each src cell reaches
  rev = data.src.kinds.map(() => ({ dst: new Set(), taps: new Set() }));
  (data.contrib || []).forEach((list, d) => {
    for (const [s, k] of list) {
      if (rev[s]) { rev[s].dst.add(d); if (k >= 0) rev[s].taps.add(k); }
    }
  });
  gather = data.view !== "scatter" && data.steps.every((st) => st.dst.length === 1);
  $("#legend").innerHTML = legendHtml(data);

  const n = data.steps.length;
  $("#scrub").max = String(n);
  const target = state.step === null ? n : Math.max(0, Math.min(n, state.step));
  resetAcc();
  gotoStep(target, true);
  if (state.pin) {
    const [where, f] = state.pin.split(":");
    const grid = G[where];
    if (grid && grid.cells[Number(f)]) relate(where, Number(f), true);
    else state.pin = null;
  } else {
    relate(null);
  }
}

function legendHtml(data) {
  const names = {
    input: "input", pad: "padding", zero: "inserted zero (stride)", crop: "cropped (negative padding)",
    outside: "outside", output: "output", extra: "extra row/col (output_padding)",
  };
  const srcKinds = [...new Set(data.src.kinds)];
  const dstKinds = [...new Set(data.dst.kinds)];
  const sw = (side, k) => `<span class="sw"><svg width="14" height="14"><g class="cell k-${k}"><rect x="1" y="1" width="12" height="12" rx="2"></rect></g></svg>${esc(side === "dst" && k === "crop" ? "cropped by padding" : (names[k] || k))}</span>`;
  return srcKinds.map((k) => sw("src", k)).join("") + " → " + dstKinds.map((k) => sw("dst", k)).join("");
}

function resetAcc() {
  const size = cur.dst.kinds.length;
  acc = new Array(size).fill(0);
  written = new Array(size).fill(false);
  shown = 0;
  for (const g of G.dst.cells) g.classList.remove("done");
  for (let f = 0; f < size; f++) setCellText(G.dst, f, null);
}

function applyStep(i) {
  const st = cur.steps[i];
  for (const tap of st.taps) {
    const d = tap[2];
    if (d < 0 || d >= acc.length) continue;
    if (tap[3] !== null && tap[3] !== undefined) acc[d] += tap[3];
    else if (tap[1] >= 0 && cur.src.values && cur.kernel && cur.kernel.values) {
      // a product cropped by padding has no value in the output; the canvas still shows it
      const x = cur.src.values[tap[0]];
      const w = cur.kernel.values[tap[1]];
      if (x !== null && x !== undefined && w !== null && w !== undefined) acc[d] += x * w;
    }
  }
  for (const d of st.dst) {
    if (d < 0 || d >= acc.length) continue;
    written[d] = true;
    G.dst.cells[d].classList.add("done");
  }
}

function displayValue(d, complete) {
  const final = cur.dst.values ? cur.dst.values[d] : null;
  if (complete && final !== null && final !== undefined) return final;
  if (!written[d]) return null;
  if (gather && final !== null && final !== undefined) return final;
  if (!cur.dst.values && !stepsHaveValues()) return null;
  return acc[d];
}
let _hasValues = null;
function stepsHaveValues() {
  if (_hasValues === null || _hasValues.data !== cur) {
    _hasValues = { data: cur, v: cur.steps.some((st) => st.taps.some((t) => t[3] !== null && t[3] !== undefined)) };
  }
  return _hasValues.v;
}

function shownStep() { return shown; }

function gotoStep(s, force) {
  if (!cur) return;
  const n = cur.steps.length;
  s = Math.max(0, Math.min(n, s));
  let touched = null;
  if (!force && s === shown + 1) {
    applyStep(shown);
    shown = s;
    touched = cur.steps[s - 1].dst;
  } else if (force || s !== shown) {
    if (s < shown || force) resetAcc();
    for (let i = shown; i < s; i++) applyStep(i);
    shown = s;
  }
  const complete = s === n;
  if (touched && !complete) {
    for (const d of touched) if (d >= 0 && d < acc.length) setCellText(G.dst, d, displayValue(d, false));
  } else {
    for (let d = 0; d < acc.length; d++) setCellText(G.dst, d, displayValue(d, complete));
  }
  state.step = s === n ? null : s;
  $("#scrub").value = String(s);
  $("#step-count").textContent = `${s} / ${n}`;
  const text = s === 0 ? `step 0 of ${n}: press ▶ to run the steps` : cur.steps[s - 1].text;
  $("#step-text").textContent = text;
  markStep(s);
  saveUrl();
}

const marked = { cur: [], hl: [], focus: [] };
function clearMarks(cls) {
  for (const el of marked[cls]) el.classList.remove(cls, cls === "focus" ? "pinned" : cls);
  marked[cls] = [];
}
function mark(el, cls) {
  if (!el) return;
  el.classList.add(cls);
  marked[cls].push(el);
}

function markStep(s) {
  clearMarks("cur");
  if (!cur || s === 0) return;
  const st = cur.steps[s - 1];
  for (const f of st.src) mark(G.src.cells[f], "cur");
  for (const f of st.dst) mark(G.dst.cells[f], "cur");
  if (G.kernel) for (const t of st.taps) if (t[1] >= 0) mark(G.kernel.cells[t[1]], "cur");
}

/** Highlight what relates to cell `f` of canvas `where` (null clears). */
function relate(where, f, pinned) {
  clearMarks("hl");
  clearMarks("focus");
  const box = $("#formula");
  if (!where || !cur) { box.textContent = hintText(); box.classList.remove("pinned"); return; }
  const grid = G[where];
  if (!grid || !grid.cells[f]) return;
  mark(grid.cells[f], "focus");
  if (pinned) grid.cells[f].classList.add("pinned");
  box.classList.toggle("pinned", !!pinned);
  const pinNote = pinned ? "  📌 (click again or Esc to unpin)" : "";
  if (where === "dst") {
    const list = (cur.contrib && cur.contrib[f]) || [];
    for (const [s, k] of list) {
      mark(G.src.cells[s], "hl");
      if (G.kernel && k >= 0) mark(G.kernel.cells[k], "hl");
    }
    let formula = cur.formulas && cur.formulas[f];
    const kind = cur.dst.kinds[f];
    if (!formula) {
      // unpooling: a cell nothing writes belongs to some value's window / k-region
      const owner = cur.steps.find((st) => Array.isArray(st.region) && st.region.includes(f));
      const here = `y[${coordText(cur.dst.lo, cur.dst.shape, f)}]`;
      if (owner) {
        for (const s of owner.src) mark(G.src.cells[s], "hl");
        formula = `${here} = 0: it is in the region of the step "${owner.text}"`;
      } else {
        formula = `${here}: nothing is written here`;
      }
    }
    box.textContent = formula +
      (kind === "crop" ? "  (cropped by padding: not part of the output)" : kind === "extra" ? "  (extra, from output_padding)" : "") + pinNote;
  } else if (where === "src") {
    const r = rev[f] || { dst: new Set(), taps: new Set() };
    for (const d of r.dst) mark(G.dst.cells[d], "hl");
    if (G.kernel) for (const k of r.taps) mark(G.kernel.cells[k], "hl");
    const v = cur.src.values ? cur.src.values[f] : null;
    const name = cur.src.name === "stretched input" ? "x̂" : "x";
    const reached = [...r.dst].sort((a, b) => a - b);
    const shownCells = reached.slice(0, 12).map((d) => `y[${coordText(cur.dst.lo, cur.dst.shape, d)}]`).join(", ");
    box.textContent = `${name}[${coordText(cur.src.lo, cur.src.shape, f)}]` + (v !== null && v !== undefined ? ` = ${fmt(v)}` : "") +
      ` (${cur.src.kinds[f]}) reaches ${reached.length} output cell${reached.length === 1 ? "" : "s"}` +
      (reached.length ? ": " + shownCells + (reached.length > 12 ? ", …" : "") : "") + pinNote;
  } else if (where === "kernel") {
    // a kernel tap: every output cell it contributes to, and the inputs it meets
    const dsts = [];
    (cur.contrib || []).forEach((list, d) => {
      for (const [s, k] of list) if (k === f) { mark(G.src.cells[s], "hl"); dsts.push(d); }
    });
    for (const d of new Set(dsts)) mark(G.dst.cells[d], "hl");
    const w = cur.kernel && cur.kernel.values ? ` = ${fmt(cur.kernel.values[f])}` : "";
    box.textContent = `w[${coordText([0, 0], cur.kernel.shape, f)}]${w} is used for ${new Set(dsts).size} output cells` + pinNote;
  }
}

function hintText() {
  return "hover a cell to see its formula; click to pin";
}

// animation timer
let timer = null;
function play() {
  if (!cur) return;
  if (shown >= cur.steps.length) gotoStep(0, true);
  $("#play").textContent = "❚❚ pause";
  $("#play").setAttribute("aria-label", "pause");
  timer = setInterval(() => {
    if (!cur || shown >= cur.steps.length) { pause(); return; }
    gotoStep(shown + 1);
    if (shown >= cur.steps.length) pause();
  }, 1000 / SPEEDS[state.speed]);
}
function pause() {
  if (timer) clearInterval(timer);
  timer = null;
  $("#play").textContent = "▶ play";
  $("#play").setAttribute("aria-label", "play");
}
function togglePlay() { if (timer) pause(); else play(); }

// ---------------------------------------------------------------------------------------------
// Panels

function renderShapes(data) {
  $("#shapes").innerHTML = (data.shapes || []).map((l) => `<div>${esc(l)}</div>`).join("");
  const kv = (obj) => Object.entries(obj || {}).map(([k, v]) => `<span class="kv"><b>${esc(k)}</b>=${esc(JSON.stringify(v))}</span>`).join(" ");
  let html = `<div><span class="tag">params</span> ${kv(data.params)}</div>`;
  if (data.equivalent) {
    html += `<div><span class="tag">${esc(data.equivalent.name || "equivalent")}</span> ${kv(data.equivalent.params)}</div>`;
  }
  $("#params").innerHTML = html;
  renderChannels(data.channels);
}

function renderChannels(ch) {
  const svg = $("#groups");
  if (!ch) { $("#channels").textContent = ""; svg.innerHTML = ""; svg.setAttribute("height", 0); return; }
  $("#channels").innerHTML =
    `in ${ch.in} → out ${ch.out}, groups ${ch.groups}` +
    (ch.kernel_shape ? `; weight shape ${esc(JSON.stringify(ch.kernel_shape))}` : "") +
    (ch.weight_count !== undefined ? `, ${ch.weight_count} weights` : "");
  const n = Math.max(ch.in, ch.out);
  const gap = Math.max(3, Math.min(14, Math.floor(220 / n)));
  const h = n * gap + 24;
  const w = 260;
  const yIn = (c) => 18 + (c + 0.5) * (n * gap / ch.in);
  const yOut = (c) => 18 + (c + 0.5) * (n * gap / ch.out);
  const parts = [`<text class="idx" x="30" y="10">in</text><text class="idx" x="${w - 30}" y="10">out</text>`];
  const ok = ch.groups > 0 && ch.in % ch.groups === 0 && ch.out % ch.groups === 0;
  if (ok) {
    const gi = ch.in / ch.groups;
    const go = ch.out / ch.groups;
    for (let o = 0; o < ch.out; o++) {
      const g = Math.floor(o / go);
      const hue = (g * 137) % 360;
      for (let c = g * gi; c < (g + 1) * gi; c++) {
        parts.push(`<line x1="40" y1="${yIn(c)}" x2="${w - 40}" y2="${yOut(o)}" stroke="hsl(${hue},60%,45%)" stroke-opacity="0.55"/>`);
      }
    }
  }
  const r = Math.max(1.5, Math.min(5, gap / 2 - 0.5));
  for (let c = 0; c < ch.in; c++) parts.push(`<circle cx="40" cy="${yIn(c)}" r="${r}" class="chan"/>`);
  for (let o = 0; o < ch.out; o++) parts.push(`<circle cx="${w - 40}" cy="${yOut(o)}" r="${r}" class="chan"/>`);
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.innerHTML = parts.join("");
}

async function refreshCode(body, seq) {
  try {
    const data = await api("/api/code", body);
    if (seq !== reqSeq) return;
    codeData = data;
  } catch (e) {
    if (seq !== reqSeq) return;
    codeData = { error: e.message };
  }
  renderCode();
}

function renderCode() {
  $$("#code-tabs button[data-fw]").forEach((b) => b.classList.toggle("on", b.dataset.fw === state.tab));
  const pre = $("#code-text");
  const notes = $("#code-notes");
  if (!codeData) { pre.textContent = ""; notes.textContent = ""; return; }
  if (codeData.error) { pre.textContent = ""; notes.innerHTML = `<span class="err">${esc(codeData.error)}</span>`; return; }
  if (state.tab === "upconv") {
    pre.textContent = codeData.upconv || "";
    notes.textContent = "upconv's own call (NumPy)";
    return;
  }
  const fw = (codeData.frameworks || []).find((f) => f.framework === state.tab);
  if (!fw) { pre.textContent = ""; notes.textContent = `no translation for ${state.tab}`; return; }
  pre.textContent = fw.code || "";
  const bits = [`<span class="${fw.exact ? "ok" : "warn"}">${fw.exact ? "exact" : "not exact"}</span>`];
  if (fw.op) bits.push(`op: <code>${esc(fw.op)}</code>`);
  if (fw.extra) bits.push(esc(fw.extra));
  notes.innerHTML = bits.join(" · ") + (fw.notes && fw.notes.length ? `<ul>${fw.notes.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>` : "");
}

async function copyCode() {
  const text = $("#code-text").textContent;
  const btn = $("#copy");
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    const ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e2) { /* nothing more to try */ }
    ta.remove();
  }
  btn.textContent = "copied ✓";
  setTimeout(() => { btn.textContent = "copy"; }, 1200);
}

let checkerSeq = 0;
async function refreshChecker() {
  const t = takes(state.op);
  const svg = $("#checker");
  const text = $("#checker-text");
  if (!t.includes("kernel_size") || !t.includes("stride")) {
    svg.innerHTML = "";
    svg.setAttribute("height", 0);
    text.textContent = "no kernel and stride: nothing overlaps";
    return;
  }
  const body = { kernel_size: dims(state.kernel_size), stride: dims(state.stride), layers: state.layers, method: state.method };
  if (t.includes("dilation")) body.dilation = dims(state.dilation);
  const seq = ++checkerSeq;
  try {
    const data = await api("/api/checkerboard", body);
    if (seq !== checkerSeq) return;
    const [rows, cols] = gridDims(data.shape);
    const cs = Math.max(4, Math.min(28, Math.floor(280 / Math.max(cols, rows))));
    const span = Math.max(1, data.max - data.min);
    const parts = [];
    data.counts.forEach((c, f) => {
      const x = (f % cols) * cs;
      const y = Math.floor(f / cols) * cs;
      const a = (c - data.min) / span;
      const light = 95 - a * 55;
      parts.push(`<g data-cell="${f}" data-count="${c}"><rect x="${x}" y="${y}" width="${cs}" height="${cs}" fill="hsl(${data.even ? 140 : 20},65%,${light}%)"></rect>` +
        (cs >= 14 ? `<text class="v" x="${x + cs / 2}" y="${y + cs / 2 + 4}" style="font-size:${Math.min(11, cs * 0.45)}px">${c}</text>` : "") +
        `<title>${c} overlapping taps</title></g>`);
    });
    svg.setAttribute("width", cols * cs);
    svg.setAttribute("height", rows * cs);
    svg.innerHTML = parts.join("");
    text.innerHTML = `<span class="${data.even ? "ok" : "warn"}">${data.even ? "even" : "uneven"}</span> · counts ${data.min}…${data.max} · ${esc(data.verdict || "")}`;
  } catch (e) {
    if (seq !== checkerSeq) return;
    svg.innerHTML = "";
    text.innerHTML = `<span class="err">${esc(e.message)}</span>`;
  }
}

async function refreshMatrix(body, seq) {
  if (!(state.op === "conv" || state.op === "conv_transpose")) {
    matData = { note: "the matrix view is for conv and conv_transpose" };
    renderMatrix();
    return;
  }
  try {
    const data = await api("/api/matrix", body);
    if (seq !== reqSeq) return;
    matData = data;
  } catch (e) {
    if (seq !== reqSeq) return;
    matData = { error: e.message };
  }
  renderMatrix();
}

function renderMatrix() {
  $$("#mat-tabs button").forEach((b) => b.classList.toggle("on", b.dataset.mat === state.mat));
  const svg = $("#matrix");
  const text = $("#matrix-text");
  if (!matData || matData.error || matData.note) {
    svg.innerHTML = "";
    svg.setAttribute("width", 0);
    svg.setAttribute("height", 0);
    text.innerHTML = !matData ? "" : matData.error ? `<span class="err">${esc(matData.error)}</span>` : esc(matData.note);
    return;
  }
  const m = state.mat === "CT" ? matData.CT : matData.C;
  if (!m) { svg.innerHTML = ""; text.textContent = "no matrix"; return; }
  const cs = Math.max(4, Math.min(20, Math.floor(420 / Math.max(m.cols, 1)), Math.floor(420 / Math.max(m.rows, 1))));
  // labels: C's rows are the conv's outputs, its columns the conv's inputs; Cᵀ swaps them
  const rl = state.mat === "CT" ? matData.col_labels : matData.row_labels;
  const cl = state.mat === "CT" ? matData.row_labels : matData.col_labels;
  const parts = [`<rect x="0" y="0" width="${m.cols * cs}" height="${m.rows * cs}" class="mat-bg"></rect>`];
  for (const [r, c, v, k] of m.entries) {
    const title = `${rl && rl[r] ? rl[r] : "row " + r} ← ${cl && cl[c] ? cl[c] : "col " + c}: ${fmt(v)}${k >= 0 ? ` (kernel tap ${k})` : ""}`;
    parts.push(`<g><rect x="${c * cs}" y="${r * cs}" width="${cs}" height="${cs}" class="mat-cell" style="fill:hsl(${(k * 47) % 360},55%,72%)"></rect>` +
      (cs >= 14 ? `<text class="v" x="${c * cs + cs / 2}" y="${r * cs + cs / 2 + 4}" style="font-size:${Math.min(10, cs * 0.45)}px">${esc(fmt(v))}</text>` : "") +
      `<title>${esc(title)}</title></g>`);
  }
  svg.setAttribute("width", m.cols * cs);
  svg.setAttribute("height", m.rows * cs);
  svg.innerHTML = parts.join("");
  text.innerHTML = `${state.mat === "CT" ? "Cᵀ" : "C"}: ${m.rows} × ${m.cols}, ${m.entries.length} nonzero · ${esc(matData.text || "")}`;
}

let imageSeq = 0;
async function loadImage() {
  if (!$("#image-panel").open) return;
  const seq = ++imageSeq;
  const box = $("#images");
  box.innerHTML = `<p class="small">computing…</p>`;
  try {
    const data = await api(`/api/image?name=${encodeURIComponent(state.img)}&factor=${state.factor}`);
    if (seq !== imageSeq) return;
    const fig = (src, cap) => `<figure><img src="${src}" alt="${esc(cap)}"><figcaption>${cap}</figcaption></figure>`;
    box.innerHTML = fig(data.original, "original") + fig(data.low, `input (÷${data.factor})`) +
      (data.methods || []).map((m) => fig(m.png, `${esc(m.name)}<br><b>${Number(m.psnr).toFixed(2)} dB</b>`)).join("");
  } catch (e) {
    if (seq !== imageSeq) return;
    box.innerHTML = `<p class="err">${esc(e.message)}</p>`;
  }
}

// ---------------------------------------------------------------------------------------------
// Solver

async function solve() {
  state.target = $("#target").value.trim();
  const list = parseList(state.target, false);
  const msg = $("#solve-message");
  if (!list) { msg.innerHTML = `<span class="err">type the output size you want, e.g. 8 or 8,6</span>`; return; }
  const body = { op: state.op, input_size: dims(state.input_size), output_size: fitList(list, nd(), list[0]) };
  for (const name of ["kernel_size", "stride", "padding", "dilation"]) {
    body[name] = state.hold.includes(name) ? dims(state[name]) : null;
  }
  saveUrl();
  try {
    const data = await api("/api/solve", body);
    showError("solve", null);
    lastSolutions = data.solutions || [];
    msg.textContent = data.message || "";
    $("#solutions").innerHTML = lastSolutions.map((s, i) => {
      const t = ["kernel_size", "stride", "padding", "dilation", "output_padding"]
        .filter((k) => Array.isArray(s[k]))
        .map((k) => `${{ kernel_size: "k", stride: "s", padding: "p", dilation: "d", output_padding: "a" }[k]}=` +
          (s[k].every((v) => v === s[k][0]) ? s[k][0] : s[k].join("×"))).join(" ");
      const badge = s.checkerboard_free === true ? ' <span class="ok" title="no checkerboard overlap">even</span>'
        : s.checkerboard_free === false ? ' <span class="warn" title="uneven overlap">checkerboard</span>' : "";
      return `<li><button type="button" data-solution="${i}" title="${esc(s.explanation || "")}">${esc(t)}</button>${badge}` +
        (s.explanation ? `<div class="small">${esc(s.explanation)}</div>` : "") + "</li>";
    }).join("");
  } catch (e) {
    showError("solve", e);
    msg.textContent = "";
    $("#solutions").innerHTML = "";
  }
}
let lastSolutions = [];

function applySolution(i) {
  const s = lastSolutions[i];
  if (!s) return;
  for (const name of ["kernel_size", "stride", "padding", "dilation", "output_padding"]) {
    if (Array.isArray(s[name])) state[name] = fitList(s[name], 2, s[name][0]);
  }
  if (state.nd === 2) state.link = Object.keys(LISTS).every((n) => state[n][0] === state[n][1]);
  state.output_size = "";
  state.step = null;
  state.pin = null;
  $$("#solutions button").forEach((b) => b.classList.toggle("on", Number(b.dataset.solution) === i));
  buildSliders();
  changed();
}

// ---------------------------------------------------------------------------------------------
// Refresh

let reqSeq = 0;
async function refresh() {
  const seq = ++reqSeq;
  const body = paramsBody();
  document.body.dataset.busy = "1";
  refreshCode(body, seq);
  refreshMatrix(body, seq);
  refreshChecker();
  try {
    const data = await api("/api/explain", body);
    if (seq !== reqSeq) return;
    cur = data;
    showError("explain", null);
    $("#stage").classList.remove("stale");
    renderShapes(data);
    renderExplain();
  } catch (e) {
    if (seq !== reqSeq) return;
    showError("explain", e);
    $("#stage").classList.add("stale");
  } finally {
    if (seq === reqSeq) {
      document.body.dataset.busy = "0";
      document.body.dataset.ready = "1";
    }
  }
}

async function start() {
  document.body.dataset.busy = "1";
  document.body.dataset.ready = "0";
  readUrl();
  try {
    meta = await api("/api/meta");
  } catch (e) {
    showError("meta", e);
  }
  if (meta) {
    $("#version").textContent = meta.version ? `upconv ${meta.version}` : "";
    const imgs = Array.isArray(meta.images) && meta.images.length ? meta.images : ["camera"];
    $("#img").innerHTML = imgs.map((n) => `<option${n === state.img ? " selected" : ""}>${esc(n)}</option>`).join("");
    // ops the server lists but this page does not know stay hidden; unknown ones are skipped
    const ops = Object.keys(meta.ops || {});
    $$("#op option").forEach((o) => { o.hidden = ops.length > 0 && !ops.includes(o.value); });
  }
  $("#factor").value = String(state.factor);
  const q = new URLSearchParams(location.search);
  if (q.has("img") || q.has("factor")) $("#image-panel").open = true;
  buildSliders();
  wireControls();
  $("#formula").textContent = hintText();
  if (!FRAMEWORKS.includes(state.tab)) state.tab = "torch";
  await refresh();
  if (state.target && (state.op === "conv" || state.op === "conv_transpose") && q.has("target")) solve();
}

start();
