// The "Plateaus" tab: tbplateau's findings on TensorBoard's curves.
//
// One vanilla ES module, no build step, no CDN, relative URLs only. TensorBoard loads
// it in an iframe and calls render(). Run and tag names come from other people's log
// files, so the DOM is built with textContent, setAttribute and createElementNS only:
// no markup is ever parsed from data.

const SVG = "http://www.w3.org/2000/svg";
const HERE = new URL(".", import.meta.url);
const FAST_POLL_MS = 600;
const SLOW_POLL_MS = 10000;
const ROW_LIMIT = 500;
const NO_FINDING = "no finding";
const COLUMNS = ["run", "tag", "verdict", "findings", "points", "best (step)", "last"];

const state = {
  doc: null, // the last full document
  status: null,
  version: null,
  waitScan: 0, // the scan that includes a reload the user or TensorBoard asked for
  expanded: new Set(),
  showAll: false,
  filters: { run: null, tag: null, labels: null, sort: "severity" },
  charts: new Map(), // key -> {points, data}
  timer: null,
  ui: null,
};

// -- small DOM helpers -------------------------------------------------------------

function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.cls) node.className = options.cls;
  if (options.text !== undefined) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs || {})) {
    node.setAttribute(name, String(value));
  }
  for (const [name, value] of Object.entries(options.data || {})) {
    node.dataset[name] = String(value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function url(path, params) {
  const u = new URL(path, HERE);
  if (params) u.search = new URLSearchParams(params).toString();
  return u;
}

function fmtNum(v) {
  if (v === null || v === undefined) return "-";
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  const a = Math.abs(v);
  if (a >= 1e4 && a < 1e15) return Math.round(v).toLocaleString("en-US");
  return Number(v.toPrecision(4)).toString();
}

function fmtStep(s) {
  return s === null || s === undefined ? "the end" : s.toLocaleString("en-US");
}

function fmtTime(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleTimeString() : "-";
}

function reEscape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileFilter(input) {
  const text = input.value.trim();
  input.classList.remove("invalid");
  if (!text) return null;
  try {
    return new RegExp(text, "i");
  } catch (e) {
    input.classList.add("invalid");
    return null;
  }
}

// -- talking to TensorBoard's frame host ------------------------------------------

function connectHost() {
  if (window.parent === window) return;
  const channel = new MessageChannel();
  channel.port1.addEventListener("message", (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (!msg || msg.isReply) return;
    const reply = { type: msg.type, id: msg.id, payload: null, error: null, isReply: true };
    channel.port1.postMessage(JSON.stringify(reply));
    if (msg.type === "experimental.DataReloaded") requestReload();
  });
  channel.port1.start();
  window.parent.postMessage("experimental.bootstrap", window.location.origin, [channel.port2]);
}

async function requestReload() {
  try {
    const response = await fetch(url("reload"), { method: "POST" });
    if (response.ok) {
      const body = await response.json();
      state.waitScan = Math.max(state.waitScan, body.scan);
    }
  } catch (e) {
    // the next poll says what is wrong
  }
  schedule(0);
}

// -- polling ------------------------------------------------------------------------

function schedule(ms) {
  if (state.timer !== null) clearTimeout(state.timer);
  state.timer = setTimeout(poll, ms);
}

function busy(status) {
  return (
    !status ||
    status.state !== "ready" ||
    status.scanning ||
    status.progress !== null ||
    status.advice !== null ||
    status.scan < state.waitScan ||
    (state.doc && state.doc.advice_pending > 0)
  );
}

async function poll() {
  state.timer = null;
  try {
    const params = state.version === null ? undefined : { since: state.version };
    const response = await fetch(url("report", params));
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    state.status = body.status;
    if (!body.unchanged && body.runs) {
      state.doc = body;
      state.version = body.version;
      renderTable();
    }
    renderStatus();
  } catch (e) {
    state.status = { state: "error", message: String(e.message || e), scan: 0 };
    renderStatus();
  }
  schedule(busy(state.status) ? FAST_POLL_MS : SLOW_POLL_MS);
}

// -- the page -------------------------------------------------------------------------

function stylesheet() {
  const link = el("link", { attrs: { rel: "stylesheet", href: url("style.css").href } });
  document.head.append(link);
}

function skeleton() {
  const run = el("input", { attrs: { type: "search", placeholder: "runs (regex)", "aria-label": "filter runs" } });
  const tag = el("input", { attrs: { type: "search", placeholder: "tags (regex)", "aria-label": "filter tags" } });
  const sort = el("select", { attrs: { "aria-label": "sort" } }, [
    el("option", { text: "worst first", attrs: { value: "severity" } }),
    el("option", { text: "by run and tag", attrs: { value: "name" } }),
  ]);
  const kinds = el("span", { cls: "kinds" });
  const reload = el("button", { text: "Reload", attrs: { type: "button" } });
  const status = el("span", { cls: "status", attrs: { role: "status" } });
  const banner = el("p", { cls: "banner" });
  banner.hidden = true;
  const summary = el("p", { cls: "summary" });
  const tbody = el("tbody");
  const head = el("tr", {}, COLUMNS.map((c) => el("th", { text: c })));
  const table = el("table", { cls: "rows" }, [el("thead", {}, [head]), tbody]);
  const more = el("button", { cls: "more", attrs: { type: "button" } });
  more.hidden = true;
  document.body.append(
    el("header", { cls: "bar" }, [el("h1", { text: "Plateaus" }), status, reload]),
    banner,
    el("div", { cls: "filters" }, [run, tag, kinds, sort]),
    summary,
    table,
    more,
  );
  const refilter = () => {
    state.filters.run = compileFilter(run);
    state.filters.tag = compileFilter(tag);
    state.filters.sort = sort.value;
    renderTable();
  };
  run.addEventListener("input", refilter);
  tag.addEventListener("input", refilter);
  sort.addEventListener("change", refilter);
  reload.addEventListener("click", requestReload);
  more.addEventListener("click", () => {
    state.showAll = true;
    renderTable();
  });
  state.ui = { run, tag, sort, kinds, reload, status, banner, summary, tbody, more };
}

function renderKinds(legend) {
  const box = state.ui.kinds;
  if (box.childElementCount) return;
  const labels = [...legend.map((k) => k.label), NO_FINDING];
  state.filters.labels = new Set(labels);
  const colours = new Map(legend.map((k) => [k.label, k.colour]));
  for (const label of labels) {
    const check = el("input", { attrs: { type: "checkbox" }, data: { label } });
    check.checked = true;
    check.addEventListener("change", () => {
      if (check.checked) state.filters.labels.add(label);
      else state.filters.labels.delete(label);
      renderTable();
    });
    const swatch = el("span", { cls: "swatch" });
    swatch.style.background = colours.get(label) || "transparent";
    box.append(el("label", {}, [check, swatch, document.createTextNode(label)]));
  }
}

function renderStatus() {
  const s = state.status || { state: "loading" };
  const ui = state.ui;
  document.body.dataset.state = s.state;
  document.body.dataset.scan = String(s.scan || 0);
  document.body.dataset.version = String(state.version === null ? "" : state.version);
  document.body.dataset.advicePending = String(state.doc ? state.doc.advice_pending : "");
  const parts = [];
  if (s.state === "loading" || !state.doc) {
    const p = s.progress;
    if (p && p.phase === "reading" && p.total) parts.push(`reading event files ${p.done}/${p.total}`);
    else if (p && p.phase === "analysing") parts.push("analysing");
    else parts.push("loading");
  } else {
    parts.push(`checked ${fmtTime(s.checked_at)}`);
    parts.push(`unchanged since ${fmtTime(s.changed_at)}`);
    if (s.advice) {
      parts.push(`preparing advice ${s.advice.done}/${s.advice.total} runs`);
    } else if (s.scanning) {
      parts.push("reading what changed");
    }
  }
  ui.status.textContent = parts.join(" · ");
  const notes = [];
  if (s.message) notes.push(s.message);
  if (state.doc && state.doc.sampled) {
    notes.push(
      "No readable logdir: these findings come from TensorBoard's data provider, " +
        "which keeps only a sample of each series. Point --logdir at the event files " +
        "for the same findings as `tbplateau report`.",
    );
  }
  ui.banner.textContent = notes.join(" ");
  ui.banner.hidden = notes.length === 0;
  ui.banner.classList.toggle("error", s.state === "error");
}

function collectRows(doc) {
  const rank = new Map(doc.legend.map((k) => [k.label, k.rank]));
  const rows = [];
  let hidden = 0;
  doc.report.runs.forEach((run, i) => {
    const entry = doc.runs[i];
    entry.rows.forEach((row, j) => {
      const summary = run.series[j];
      if (row.twin_of || (summary.goal === null && row.findings.length === 0)) {
        hidden += 1;
        return;
      }
      const labels = row.findings.map((f) => f.label);
      const worst = Math.min(99, ...labels.map((l) => rank.get(l) ?? 98));
      const confidence = Math.max(0, ...row.findings.map((f) => f.confidence));
      rows.push({ run: run.run, row, entry, summary, labels, worst, confidence, key: `${run.run}\u0000${row.tag}` });
    });
  });
  return { rows, hidden };
}

function keep(item) {
  const f = state.filters;
  if (f.run && !f.run.test(item.run)) return false;
  if (f.tag && !f.tag.test(item.row.tag)) return false;
  if (f.labels) {
    if (item.labels.length === 0) return f.labels.has(NO_FINDING);
    if (!item.labels.some((l) => f.labels.has(l))) return false;
  }
  return true;
}

function compare(a, b) {
  if (state.filters.sort === "severity") {
    if (a.worst !== b.worst) return a.worst - b.worst;
    if (a.confidence !== b.confidence) return b.confidence - a.confidence;
  }
  if (a.run !== b.run) return a.run < b.run ? -1 : 1;
  return a.row.tag < b.row.tag ? -1 : a.row.tag > b.row.tag ? 1 : 0;
}

function renderTable() {
  const doc = state.doc;
  if (!doc || !doc.report) return;
  renderKinds(doc.legend);
  const colours = new Map(doc.legend.map((k) => [k.kind, k.colour]));
  const labelColours = new Map(doc.legend.map((k) => [k.label, k.colour]));
  const { rows, hidden } = collectRows(doc);
  const shown = rows.filter(keep).sort(compare);
  const limit = state.showAll ? shown.length : ROW_LIMIT;
  const tbody = state.ui.tbody;
  tbody.replaceChildren();
  for (const item of shown.slice(0, limit)) {
    const tr = seriesRow(item, colours, labelColours);
    tbody.append(tr);
    if (state.expanded.has(item.key)) tbody.append(detailRow(item, colours, labelColours));
  }
  const more = state.ui.more;
  more.hidden = shown.length <= limit;
  more.textContent = `Show all ${shown.length.toLocaleString("en-US")} series`;
  const findings = rows.reduce((n, r) => n + r.row.findings.length, 0);
  const parts = [
    `${doc.report.runs.length} runs`,
    `${rows.length} judged series (${shown.length} shown)`,
    `${findings} findings`,
  ];
  if (hidden) parts.push(`${hidden} series without a goal not shown`);
  if (doc.advice_pending) parts.push(`advice pending for ${doc.advice_pending} runs`);
  state.ui.summary.textContent = parts.join(" · ");
}

function seriesRow(item, colours, labelColours) {
  const { row, summary } = item;
  const verdict = el("td", { cls: "verdict" });
  row.verdict.forEach((v, i) => {
    if (i) verdict.append(document.createTextNode("; "));
    const span = el("span", { text: v.text, cls: v.kind ? "phrase" : "phrase dim" });
    if (v.kind) span.style.color = colours.get(v.kind);
    verdict.append(span);
  });
  const chips = el("td", { cls: "chips" });
  for (const f of row.findings) {
    const chip = el("span", {
      cls: "chip",
      text: `${f.label} ${fmtStep(f.start_step)}–${f.end_step === null ? "end" : fmtStep(f.end_step)} · ${Math.round(f.confidence * 100)}%`,
      data: { kind: f.kind, start: f.start_step },
    });
    chip.style.borderColor = labelColours.get(f.label);
    chips.append(chip);
  }
  const tr = el(
    "tr",
    {
      cls: "series",
      attrs: { tabindex: 0, "aria-expanded": state.expanded.has(item.key) },
      data: {
        run: item.run,
        tag: row.tag,
        findings: row.findings.map((f) => `${f.kind}@${f.start_step}`).join(" "),
      },
    },
    [
      el("td", {}, [el("code", { text: item.run })]),
      el("td", {}, [
        el("code", { text: row.tag }),
        ...(row.twins || []).map((t) => el("div", { cls: "twin", text: `= ${t}` })),
      ]),
      verdict,
      chips,
      el("td", { cls: "num", text: summary.points.toLocaleString("en-US") }),
      el("td", { cls: "num", text: row.best }),
      el("td", { cls: "num", text: row.last }),
    ],
  );
  const toggle = () => {
    if (state.expanded.has(item.key)) state.expanded.delete(item.key);
    else state.expanded.add(item.key);
    renderTable();
  };
  tr.addEventListener("click", toggle);
  tr.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      toggle();
    }
  });
  return tr;
}

function timeSeriesLink(run, tag) {
  // the frame is TensorBoard's data/plugin_entry.html: its parent folder is TensorBoard's root
  const root = new URL("../", window.location.href);
  root.search = new URLSearchParams({
    runFilter: `^${reEscape(run)}$`,
    tagFilter: `^${reEscape(tag)}$`,
  }).toString();
  root.hash = "timeseries";
  return el("a", {
    cls: "open",
    text: "Open in Time Series",
    attrs: { href: root.href, target: "_top", rel: "noopener" },
  });
}

function triesOf(advice) {
  if (advice.tries && advice.tries.length) return advice.tries;
  return (advice.kind && state.doc.tries[advice.label]) || [];
}

function adviceFor(item) {
  const { entry, row } = item;
  const out = [];
  const used = new Set();
  for (const f of row.findings) {
    const match =
      entry.advice.find((a) => a.tag === row.tag && a.kind === f.kind && a.start_step === f.start_step) ||
      entry.advice.find((a) => a.kind === f.kind && a.start_step === f.start_step);
    if (match && !used.has(match)) {
      used.add(match);
      out.push(match);
    }
  }
  for (const a of entry.advice) if (a.kind === null && a.tag === row.tag) out.push(a);
  return out;
}

function detailRow(item, colours, labelColours) {
  const chart = el("div", { cls: "chart", data: { run: item.run, tag: item.row.tag } });
  const list = el("ul", { cls: "advice" });
  if (!item.entry.advised) {
    list.append(el("li", { cls: "dim", text: "Preparing the advice for this run…" }));
  }
  for (const a of item.entry.advised ? adviceFor(item) : []) {
    const title = el("b", { text: a.title });
    if (a.kind) title.style.color = colours.get(a.kind);
    const head = el("div", {}, [title]);
    if (a.confidence !== null) {
      head.append(el("span", { cls: "dim", text: ` confidence ${Math.round(a.confidence * 100)}%` }));
    }
    const li = el("li", { cls: "advice-item", data: { kind: a.kind || "outlook", start: a.start_step ?? "" } }, [head]);
    for (const fact of a.facts) li.append(el("p", { text: fact }));
    for (const line of a.context || []) li.append(el("p", { cls: "context", text: line }));
    const tries = triesOf(a);
    if (tries.length) li.append(el("p", { cls: "try", text: `Try: ${tries.join("; ")}.` }));
    list.append(li);
  }
  const td = el("td", { attrs: { colspan: COLUMNS.length } }, [chart, list, timeSeriesLink(item.run, item.row.tag)]);
  const tr = el("tr", { cls: "detail", data: { run: item.run, tag: item.row.tag } }, [td]);
  loadChart(chart, item, labelColours);
  return tr;
}

// -- the chart ----------------------------------------------------------------------

async function loadChart(box, item, labelColours) {
  const cached = state.charts.get(item.key);
  if (cached && cached.points === item.summary.points) {
    drawChart(box, cached.data, item, labelColours);
    return;
  }
  box.append(el("span", { cls: "dim", text: "loading the curve…" }));
  try {
    const response = await fetch(url("series", { run: item.run, tag: item.row.tag }));
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    state.charts.set(item.key, { points: item.summary.points, data });
    drawChart(box, data, item, labelColours);
  } catch (e) {
    box.replaceChildren(el("span", { cls: "error", text: `the curve could not be loaded: ${e.message || e}` }));
  }
}

function drawChart(box, data, item, labelColours) {
  const W = 720;
  const H = 220;
  const m = { l: 64, r: 12, t: 12, b: 30 };
  const steps = data.steps;
  const finite = data.values.filter((v) => v !== null);
  const findings = item.row.findings;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" });
  chart.append(svg("title", {}, `${item.run} ${item.row.tag}`));
  if (!steps.length) {
    box.replaceChildren(el("span", { cls: "dim", text: "no points" }));
    return;
  }
  let x0 = steps[0];
  let x1 = steps[steps.length - 1];
  for (const f of findings) {
    x0 = Math.min(x0, f.start_step);
    if (f.end_step !== null) x1 = Math.max(x1, f.end_step);
  }
  if (x1 === x0) x1 = x0 + 1;
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  const log = lo > 0 && hi / lo > 1e3;
  const ty = (v) => (log ? Math.log10(v) : v);
  lo = ty(lo);
  hi = ty(hi);
  if (hi === lo) {
    hi += 0.5;
    lo -= 0.5;
  }
  const X = (s) => m.l + ((s - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v) => H - m.b - ((ty(v) - lo) / (hi - lo)) * (H - m.t - m.b);
  for (const f of findings) {
    const a = X(f.start_step);
    const b = X(f.end_step === null ? x1 : f.end_step);
    const colour = labelColours.get(f.label);
    const rect = svg("rect", {
      class: "finding",
      x: a,
      y: m.t,
      width: Math.max(2, b - a),
      height: H - m.t - m.b,
      fill: colour,
      "fill-opacity": 0.18,
      "data-kind": f.kind,
      "data-start": f.start_step,
    });
    rect.append(svg("title", {}, `${f.label} from ${fmtStep(f.start_step)} to ${fmtStep(f.end_step)}`));
    chart.append(rect);
    chart.append(svg("line", { class: "onset", x1: a, x2: a, y1: m.t, y2: H - m.b, stroke: colour, "stroke-dasharray": "4 3" }));
    chart.append(svg("text", { class: "onset-label", x: a + 3, y: m.t + 10, fill: colour }, fmtStep(f.start_step)));
  }
  let d = "";
  let pen = false;
  steps.forEach((s, i) => {
    const v = data.values[i];
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${X(s).toFixed(1)},${Y(v).toFixed(1)}`;
    pen = true;
  });
  chart.append(svg("path", { class: "curve", d, fill: "none" }));
  for (const [s] of data.nonfinite) {
    chart.append(svg("path", { class: "nonfinite", d: `M${X(s).toFixed(1)},${m.t}l-3,-6h6z` }));
  }
  const axis = (x1a, y1a, x2a, y2a) => svg("line", { class: "axis", x1: x1a, y1: y1a, x2: x2a, y2: y2a });
  chart.append(axis(m.l, H - m.b, W - m.r, H - m.b), axis(m.l, m.t, m.l, H - m.b));
  const yLabel = (v) => fmtNum(log ? 10 ** v : v);
  chart.append(
    svg("text", { class: "tick", x: m.l - 4, y: m.t + 8, "text-anchor": "end" }, yLabel(hi)),
    svg("text", { class: "tick", x: m.l - 4, y: H - m.b, "text-anchor": "end" }, yLabel(lo)),
    svg("text", { class: "tick", x: m.l, y: H - 8 }, fmtStep(x0)),
    svg("text", { class: "tick", x: W - m.r, y: H - 8, "text-anchor": "end" }, fmtStep(x1)),
    svg("text", { class: "tick", x: (W + m.l) / 2, y: H - 8, "text-anchor": "middle" }, item.row.unit + (log ? " · log scale" : "")),
  );
  const note = data.shown < data.points ? `${data.shown.toLocaleString("en-US")} of ${data.points.toLocaleString("en-US")} points drawn (each bucket's min and max)` : "";
  box.replaceChildren(chart);
  if (note) box.append(el("div", { cls: "dim small", text: note }));
}

// -- entry point --------------------------------------------------------------------

export async function render() {
  stylesheet();
  skeleton();
  renderStatus();
  connectHost();
  await poll();
}
