"use strict";
const $ = (id) => document.getElementById(id);
const canvas = $("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true });
let models = [], tool = "pen", drawing = false, last = null;
const undoStack = [], redoStack = [];
let codesA = null, codesB = null, frames = [];

function fillWhite() { ctx.save(); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height); ctx.restore(); }
fillWhite();

function snapshot() {
  undoStack.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
  if (undoStack.length > 50) undoStack.shift();
  redoStack.length = 0;
  updateHistoryButtons();
}
function updateHistoryButtons() { $("undo").disabled = !undoStack.length; $("redo").disabled = !redoStack.length; }
function undo() {
  if (!undoStack.length) return;
  redoStack.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
  ctx.putImageData(undoStack.pop(), 0, 0);
  updateHistoryButtons();
}
function redo() {
  if (!redoStack.length) return;
  undoStack.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
  ctx.putImageData(redoStack.pop(), 0, 0);
  updateHistoryButtons();
}
function setTool(t) { tool = t; $("pen").classList.toggle("on", t === "pen"); $("eraser").classList.toggle("on", t === "eraser"); }

function point(e) {
  const r = canvas.getBoundingClientRect();
  return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
}
function strokeTo(p) {
  const scale = canvas.width / canvas.getBoundingClientRect().width;
  const w = Number($("width").value) * scale * (tool === "eraser" ? 3 : 1);
  ctx.strokeStyle = tool === "eraser" ? "#fff" : "#000";
  ctx.fillStyle = ctx.strokeStyle;
  ctx.lineWidth = w; ctx.lineCap = "round"; ctx.lineJoin = "round";
  if (!last || (last.x === p.x && last.y === p.y)) {
    ctx.beginPath(); ctx.arc(p.x, p.y, w / 2, 0, 2 * Math.PI); ctx.fill();
  } else {
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
  }
  last = p;
}
canvas.addEventListener("pointerdown", (e) => {
  if (e.button !== 0) return;
  canvas.setPointerCapture(e.pointerId);
  snapshot(); drawing = true; last = null; strokeTo(point(e));
});
canvas.addEventListener("pointermove", (e) => { if (drawing) strokeTo(point(e)); });
const endStroke = () => { drawing = false; last = null; };
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

$("pen").onclick = () => setTool("pen");
$("eraser").onclick = () => setTool("eraser");
$("width").oninput = () => { $("width-value").textContent = $("width").value; };
$("undo").onclick = undo;
$("redo").onclick = redo;
$("clear").onclick = () => { snapshot(); fillWhite(); };
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); e.shiftKey ? redo() : undo(); }
  else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "y") { e.preventDefault(); redo(); }
  else if (e.key === "p") setTool("pen");
  else if (e.key === "e") setTool("eraser");
});
$("upload").onchange = async () => {
  const file = $("upload").files[0];
  if (!file) return;
  try {
    const bitmap = await createImageBitmap(file);
    snapshot(); fillWhite();
    const s = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
    const w = bitmap.width * s, h = bitmap.height * s;
    ctx.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    status(`loaded ${file.name} (${bitmap.width}×${bitmap.height})`);
  } catch (err) { status(`could not read ${file.name}: ${err}`, true); }
  $("upload").value = "";
};
$("reseed").onclick = () => { $("seed").value = Math.floor(Math.random() * 2 ** 31); };

function status(text, isError = false) { $("status").textContent = text; $("status").classList.toggle("error", isError); }
function currentModel() { return models.find((m) => m.name === $("model").value); }
function showModelControls() {
  const m = currentModel(), mm = !!(m && m.multimodal);
  document.querySelectorAll(".mm").forEach((el) => el.classList.toggle("hidden", !mm || (el.id === "interp" && !(codesA && codesB && frames.length))));
}
$("model").onchange = () => { codesA = codesB = null; frames = []; showModelControls(); };

async function loadModels() {
  try {
    const r = await fetch("/api/models");
    const body = await r.json();
    models = body.models;
    $("model").innerHTML = "";
    for (const m of models) {
      const o = document.createElement("option");
      o.value = m.name;
      o.textContent = `${m.name} (${m.kind}${m.multimodal ? ", many images" : ""})`;
      $("model").appendChild(o);
    }
    if (!models.length) status("The server has no models: start it with --models pointing at exported models.", true);
    showModelControls();
  } catch (err) { status(`could not list the models: ${err}`, true); }
}

/** The sketch at the model's training size, as PNG. */
function sketchBlob(model) {
  const size = model.trainingSize || 256;
  const c = document.createElement("canvas");
  c.width = size; c.height = size;
  const g = c.getContext("2d");
  g.fillStyle = "#fff"; g.fillRect(0, 0, size, size);
  g.imageSmoothingQuality = "high";
  g.drawImage(canvas, 0, 0, size, size);
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

function logLatency(what, clientMs, serverMs) {
  const text = `${what}: ${Math.round(clientMs)} ms (server ${Math.round(serverMs)} ms)`;
  $("latency").textContent = text;
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("log").prepend(li);
  while ($("log").children.length > 20) $("log").lastChild.remove();
}

async function call(path, params, what) {
  const model = currentModel();
  if (!model) { status("No model to use.", true); return null; }
  const query = new URLSearchParams({ model: model.name, format: "json", ...params });
  const blob = await sketchBlob(model);
  status(`${what}…`);
  $("generate").disabled = true;
  const t0 = performance.now();
  try {
    const r = await fetch(`${path}?${query}`, { method: "POST", headers: { "Content-Type": "image/png", "Accept": "application/json" }, body: blob });
    const body = await r.json();
    const ms = performance.now() - t0;
    if (!r.ok) {
      const retry = r.headers.get("Retry-After");
      status(`${body.error ? body.error.message : r.statusText}${retry ? ` (retry in ${retry} s)` : ""}`, true);
      logLatency(`${what} failed (${r.status})`, ms, 0);
      return null;
    }
    logLatency(what, ms, body.latencyMs);
    status(`${what}: done`);
    return body;
  } catch (err) {
    status(`${what} failed: ${err}`, true);
    return null;
  } finally { $("generate").disabled = false; }
}

function dataURL(b64) { return `data:image/png;base64,${b64}`; }

function showResults(items, model) {
  const box = $("results");
  box.innerHTML = "";
  items.forEach((item, i) => {
    const card = document.createElement("div");
    card.className = "card";
    const img = document.createElement("img");
    img.className = "result";
    img.alt = `result ${i + 1}`;
    img.src = dataURL(item.image);
    card.appendChild(img);
    const row = document.createElement("div");
    row.className = "row";
    const dl = document.createElement("a");
    dl.className = "download"; dl.textContent = "Download"; dl.href = img.src;
    dl.download = `sketch2real-${model.name}-${i + 1}.png`;
    row.appendChild(dl);
    if (item.code && item.code.length) {
      const more = document.createElement("button");
      more.textContent = "More like this"; more.className = "more";
      more.onclick = () => moreLikeThis(item.code);
      const a = document.createElement("button"); a.textContent = "A"; a.className = "pick-a";
      a.onclick = () => { codesA = item.code; mark(card, "a"); interpolate(); };
      const b = document.createElement("button"); b.textContent = "B"; b.className = "pick-b";
      b.onclick = () => { codesB = item.code; mark(card, "b"); interpolate(); };
      row.append(more, a, b);
    }
    card.appendChild(row);
    if (item.code && item.code.length) {
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = `z = [${item.code.slice(0, 3).map((v) => v.toFixed(2)).join(", ")}, …]`;
      card.appendChild(meta);
    }
    box.appendChild(card);
  });
}
function mark(card, which) {
  document.querySelectorAll(`.card.${which}`).forEach((c) => c.classList.remove(which));
  card.classList.add(which);
}

async function generate() {
  const model = currentModel();
  if (!model) { status("No model to use.", true); return; }
  codesA = codesB = null; frames = []; showModelControls();
  if (!model.multimodal) {
    const body = await call("/api/translate", {}, "translate");
    if (body) showResults([{ image: body.image }], model);
    return;
  }
  const params = { n: $("count").value || "4" };
  if ($("seed").value !== "") params.seed = $("seed").value;
  const body = await call("/api/sample", params, `sample ×${params.n}`);
  if (body) { $("seed").value = body.seed; showResults(body.images, model); }
}

async function moreLikeThis(code) {
  const model = currentModel();
  const seed = Math.floor(Math.random() * 2 ** 31);
  const body = await call("/api/sample", { n: $("count").value || "4", code: code.join(","), spread: $("spread").value || "0.5", seed }, "more like this");
  if (body) { codesA = codesB = null; frames = []; showModelControls(); showResults(body.images, model); }
}

async function interpolate() {
  showModelControls();
  if (!codesA || !codesB) { status(codesA ? "Pick B to interpolate." : "Pick A to interpolate."); return; }
  const steps = Number($("mix").max) + 1;
  const body = await call("/api/sample", { from: codesA.join(","), to: codesB.join(","), steps }, "interpolate");
  if (!body) return;
  frames = body.images.map((im) => dataURL(im.image));
  showModelControls();
  showFrame();
}
function showFrame() {
  const i = Number($("mix").value);
  if (!frames[i]) return;
  $("interp-image").src = frames[i];
  $("interp-download").href = frames[i];
  $("interp-download").download = `sketch2real-interpolation-${i}.png`;
}
$("mix").oninput = showFrame;
$("generate").onclick = generate;
loadModels();
