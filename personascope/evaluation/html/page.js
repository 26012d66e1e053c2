// The report page: inflates the bundled Plotly and the experiment's data, then draws
// the view the address names (#/overview, #/characters/<id>, #/runs?..., #/run/<i>?...,
// #/figures?..., #/tables). Every text of the experiment is put in with textContent,
// never as HTML: answers come from models and may hold anything.
"use strict";

let D = null; // the page data (personascope.evaluation.page.page_data)
let lastRuns = "#/runs";
const RUN_FILTERS = ["character", "scale", "method", "rpa", "assessor", "status", "flag"];

async function inflate(id) {
  const b64 = document.getElementById(id).textContent.trim();
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const str = (i) => (i === null || i === undefined ? null : D.strings[i]);
const fmt = (x, d = 2) => (x === null || x === undefined ? "—"
  : typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(d)) : String(x));
const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined)).toString();
const dimName = (scale, dim) => {
  const s = D.scales[scale];
  const found = s && s.dims.find((d) => d[0] === dim);
  return found ? found[1] : dim;
};

function table(columns, rows, opts = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { text: c })));
  const body = rows.map((r, i) => {
    const tr = h("tr", opts.onrow ? { class: "clickable", onclick: () => opts.onrow(i) } : {},
      r.map((v) => v instanceof Node ? h("td", {}, v) : h("td", { class: typeof v === "number" ? "num" : null, text: fmt(v, 3) })));
    return tr;
  });
  return h("div", { class: "scroll" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
}

function chart(spec) {
  const div = h("div", { class: "chart" });
  // Drawn when scrolled into view: a 32-character experiment has hundreds of figures.
  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) {
      io.disconnect();
      Plotly.newPlot(div, spec.data, Object.assign({ autosize: true }, spec.layout), { displaylogo: false, responsive: true });
    }
  });
  io.observe(div);
  return div;
}

// -- overview ------------------------------------------------------------------------

function viewOverview() {
  const o = D.overview;
  const statusBadges = Object.entries(o.status).map(([k, n]) => h("a", { class: `badge ${k}`, href: `#/runs?${q({ status: k })}`, text: `${k}: ${n}` }));
  const list = (xs) => xs.map(String).join(", ") || "—";
  const facts = h("dl", { class: "facts" },
    h("dt", { text: "runs" }), h("dd", {}, `${o.runs} `, statusBadges),
    h("dt", { text: "characters" }), h("dd", { text: `${o.characters.length}: ${list(o.characters)}` }),
    h("dt", { text: "scales" }), h("dd", { text: list(o.scales) }),
    h("dt", { text: "methods" }), h("dd", { text: list(o.methods) }),
    h("dt", { text: "RPA models" }), h("dd", { text: list(o.rpa_models) }),
    h("dt", { text: "assessor models" }), h("dd", { text: list(o.assessor_models) }),
    h("dt", { text: "interviewer models" }), h("dd", { text: list(o.interviewer_models) }),
    h("dt", { text: "temperatures × trials" }), h("dd", { text: `${list(o.temperatures)} × ${o.trials.length}` }),
    h("dt", { text: "items answered" }), h("dd", { text: String(o.items) }),
    h("dt", { text: "flags" }), h("dd", {},
      h("a", { class: "badge injection", href: "#/runs?flag=injection", text: `injection: ${o.flags.injection}` }),
      h("a", { class: "badge no_evidence", href: "#/runs?flag=no_evidence", text: `no evidence: ${o.flags.no_evidence}` }),
      h("a", { class: "badge truncated", href: "#/runs?flag=truncated", text: `truncated: ${o.flags.truncated}` })),
    h("dt", { text: "personascope" }), h("dd", { text: list(o.versions) }));
  const configRows = D.configs.map((c, i) => {
    const runs = D.runs.filter((r) => r.cfg === i);
    const v = D.validity.measured ? D.validity.configs[i] : null;
    return [
      h("a", { href: `#/runs?${q({ scale: c.scale, method: c.method, rpa: c.rpa_model, assessor: c.assessor_model })}`, text: c.label }),
      runs.length,
      new Set(runs.map((r) => r.character)).size,
      runs.reduce((n, r) => n + r.counts.failures, 0),
      v && v.table ? table(v.table.columns, v.table.rows) : h("span", { class: "muted", text: "not measured" }),
      h("a", { href: `#/figures?${q({ cfg: i })}`, text: "figures" }),
    ];
  });
  const failures = o.failures.length
    ? table(["stage", "kind", "count", "example reason"], o.failures.map((f) => [f.stage, f.kind, f.count, str(f.example)]))
    : h("p", { class: "muted", text: "No failures." });
  const validity = D.validity.measured
    ? h("p", { text: "The validity study's recovery of known levels is shown beside each configuration above (r, Spearman, H/L accuracy, bias per dimension)." })
    : h("p", { class: "muted", text: "Validity: not measured — this experiment has no validity study (validity/summary.csv); its scores' recovery of known levels is unknown." });
  const whole = D.figures.filter((f) => f.cfg === null && !f.config).map((f) => chart(f.spec));
  return [
    h("h2", { text: "Overview" }),
    D.notes.map((n) => h("p", { class: "card", text: n })),
    h("div", { class: "card" }, facts),
    h("h2", { text: "Configurations and their validity" }), validity,
    table(["configuration", "runs", "characters", "failures", "validity (per dimension)", ""], configRows),
    h("h2", { text: "Failures" }), failures,
    whole.length ? [h("h2", { text: "Behaviour test" }), whole] : null,
  ];
}

// -- characters ------------------------------------------------------------------------

function viewCharacters(params, rest) {
  const chars = D.overview.characters;
  const current = rest ? decodeURIComponent(rest) : chars[0];
  const nav = h("div", { class: "charlist card" }, chars.map((c) => h("a", { href: `#/characters/${encodeURIComponent(c)}`, class: c === current ? "active" : null, text: c })));
  const body = h("div", {}, h("h2", { text: current }));
  if (!D.labels) body.append(h("p", { class: "muted", text: "No labels were given for this report (--labels): the measured scores are shown alone." }));
  const mine = D.profiles.filter((p) => p.character === current);
  const cfgs = [...new Set(mine.map((p) => p.cfg))];
  for (const i of cfgs) {
    const c = D.configs[i];
    const rows = mine.filter((p) => p.cfg === i);
    const fig = D.figures.find((f) => f.kind === "profile" && f.cfg === i && f.character === current);
    body.append(h("h3", { text: c.label }));
    if (fig) body.append(chart(fig.spec));
    body.append(table(
      ["dimension", "label", "measured (mean)", "SD over runs", "95% CI ±", "runs", "type agreement", "label agreement", "item confidence", "items behind it"],
      rows.map((p) => [
        dimName(c.scale, p.dimension),
        p.label_type ? `${p.label_type}${p.label_score !== null ? ` (${fmt(p.label_score)})` : ""}` : "—",
        h("a", { href: `#/runs?${q({ character: current, scale: c.scale, method: c.method, rpa: c.rpa_model, assessor: c.assessor_model, dim: p.dimension })}`, text: fmt(p.mean) }),
        p.sd, p.ci95, p.runs, p.type_agreement, p.label_agreement, p.item_confidence,
        h("a", { href: `#/runs?${q({ character: current, scale: c.scale, method: c.method, rpa: c.rpa_model, assessor: c.assessor_model, dim: p.dimension })}`, text: "runs →" }),
      ])));
  }
  if (!cfgs.length) body.append(h("p", { class: "muted", text: "No scores for this character yet." }));
  body.append(h("p", { class: "muted", text: "Scores in the labels' units (item mean; percent for 16Personalities). Confidence: SD and the 95% interval of the mean over runs (temperatures × trials); type agreement is the share of runs on the modal side of the midpoint; item confidence is shown where the assessor reports one." }));
  return [h("div", { class: "grid2" }, nav, body)];
}

// -- runs ------------------------------------------------------------------------------

function runMatches(r, p) {
  if (p.character && r.character !== p.character) return false;
  if (p.scale && r.scale !== p.scale) return false;
  if (p.method && r.method !== p.method) return false;
  if (p.rpa && r.rpa !== p.rpa) return false;
  if (p.assessor && r.assessor !== p.assessor) return false;
  if (p.status && r.status !== p.status) return false;
  if (p.flag === "failures" && !r.counts.failures) return false;
  if (p.flag && p.flag !== "failures" && !r.counts[p.flag]) return false;
  return true;
}

function viewRuns(params) {
  const p = Object.fromEntries(RUN_FILTERS.map((k) => [k, params.get(k) || ""]));
  const dim = params.get("dim") || "";
  const limit = Number(params.get("limit") || 300);
  const choices = {
    character: D.overview.characters, scale: D.overview.scales, method: D.overview.methods,
    rpa: D.overview.rpa_models, assessor: D.overview.assessor_models,
    status: ["complete", "complete_with_failures", "partial", "failed"],
    flag: ["failures", "injection", "no_evidence", "truncated"],
  };
  const go = (k, v) => { location.hash = `#/runs?${q({ ...p, dim, [k]: v })}`; };
  const filters = h("div", { class: "filters card" }, RUN_FILTERS.map((k) => h("label", {}, k,
    h("select", { name: k, onchange: (e) => go(k, e.target.value) },
      h("option", { value: "", text: "all" }),
      choices[k].map((v) => h("option", { value: v, selected: String(v) === p[k], text: v }))))));
  const runs = D.runs.filter((r) => runMatches(r, p));
  const showScores = (r) => {
    const dims = dim ? [dim] : Object.keys(r.scores);
    return h("span", {}, dims.map((d) => h("a", {
      href: `#/run/${r.i}?${q({ dim: d })}`, title: `${dimName(r.scale, d)}: the items behind this score`,
      onclick: (e) => e.stopPropagation(), text: `${dimName(r.scale, d).slice(0, 12)} ${fmt(r.scores[d] && r.scores[d].score, 1)}`,
    })).map((a) => [a, " "]));
  };
  const rows = runs.slice(0, limit).map((r) => [r.character, r.scale, r.method, r.rpa, r.assessor, r.T, r.trial,
    h("span", { class: `badge ${r.status}`, text: r.status }), r.counts.failures,
    [r.counts.injection ? h("span", { class: "badge injection", text: `injection ${r.counts.injection}` }) : null,
      r.counts.no_evidence ? h("span", { class: "badge no_evidence", text: `no evidence ${r.counts.no_evidence}` }) : null,
      r.counts.truncated ? h("span", { class: "badge truncated", text: `truncated ${r.counts.truncated}` }) : null].filter(Boolean).reduce((s, b) => (s.append(b), s), h("span", {})),
    showScores(r)]);
  lastRuns = location.hash;
  return [
    h("h2", { text: `Runs (${runs.length} of ${D.runs.length})` }), filters,
    dim ? h("p", {}, `Scores of ${dim} — click one for the items behind it. `, h("a", { href: `#/runs?${q(p)}`, text: "all dimensions" })) : null,
    table(["character", "scale", "method", "RPA", "assessor", "T", "trial", "status", "failures", "flags", dim ? "score" : "scores (click: items behind it)"],
      rows, { onrow: (i) => { location.hash = `#/run/${runs[i].i}${dim ? `?${q({ dim })}` : ""}`; } }),
    runs.length > limit ? h("p", {}, h("a", { href: `#/runs?${q({ ...p, dim, limit: limit + 500 })}`, text: `show ${Math.min(500, runs.length - limit)} more` })) : null,
  ];
}

function itemAssessment(r, it, batchesOf) {
  const parts = [];
  for (const b of batchesOf[it.id] || []) {
    const n = r.batches.indexOf(b) + 1;
    if (b.choices) {
      const c = b.choices[it.id];
      parts.push(h("div", {}, h("b", { text: `Assessor (${b.kind}, batch ${n}): ` }),
        `choice ${c === undefined ? "—" : c}`, it.v !== null ? ` → value ${fmt(it.v, 0)}` : " → no value",
        b.error !== null ? h("div", { class: "fail", text: `batch error: ${str(b.error)}` }) : null));
    } else {
      parts.push(h("div", {}, h("b", { text: `Assessor (${b.kind}${b.dim ? ` · ${dimName(r.scale, b.dim)}` : ""}, batch ${n} of ${b.ids.length} answers): score ${fmt(b.score)}` }),
        b.analysis !== null ? h("div", { class: "analysis", text: str(b.analysis) }) : null,
        b.error !== null ? h("div", { class: "fail", text: `error: ${str(b.error)}` }) : null));
    }
    if (b.other !== null && b.other !== undefined) parts.push(h("div", { class: "muted", text: str(b.other) }));
  }
  if (!parts.length && it.v !== null) parts.push(h("div", {}, h("b", { text: "Value: " }), fmt(it.v, 0)));
  if (it.dist) {
    const p = it.dist.values.map((v, k) => `${v}: ${fmt(it.dist.probabilities[k])}`).join(", ");
    parts.push(h("div", { class: "muted", text: `option probabilities (${it.dist.source}): ${p}; expected ${fmt(it.dist.expected)}` }));
  }
  if (it.c !== null && it.c !== undefined) parts.push(h("div", { class: "muted", text: `item confidence ${fmt(it.c)}` }));
  return parts.length ? h("div", { class: "assess" }, parts) : null;
}

function viewRun(params, rest) {
  const r = D.runs[Number(rest)];
  if (!r) return [h("p", { text: "No such run." })];
  const dim = params.get("dim") || "";
  const only = params.get("only") || "";
  const focus = params.get("item") || "";
  const batchesOf = {};
  for (const b of r.batches) for (const id of b.ids) (batchesOf[id] = batchesOf[id] || []).push(b);
  const failuresOf = {};
  for (const f of r.failures) (failuresOf[f.item] = failuresOf[f.item] || []).push(f);
  const go = (k, v) => { location.hash = `#/run/${r.i}?${q({ dim, only, [k]: v })}`; };
  const facts = h("dl", { class: "facts" },
    ["character", "scale", "method", "rpa", "assessor", "interviewer", "T", "trial", "finished", "version"].flatMap((k) => [h("dt", { text: k === "rpa" ? "RPA model" : k }), h("dd", { text: String(r[k]) })]),
    h("dt", { text: "status" }), h("dd", {}, h("span", { class: `badge ${r.status}`, text: r.status })),
    h("dt", { text: "run id" }), h("dd", { text: r.id }),
    h("dt", { text: "timings" }), h("dd", { text: JSON.stringify(r.timings) }),
    h("dt", { text: "parameters" }), h("dd", {}, h("details", {}, h("summary", { text: "show" }), h("pre", { text: JSON.stringify(r.params, null, 1) }))));
  const scoreRows = Object.entries(r.scores).map(([d, s]) => [
    h("a", { href: `#/run/${r.i}?${q({ dim: d })}`, text: dimName(r.scale, d) }), s.score, s.item_mean, s.type, s.n_items, s.n_failed]);
  const failures = r.failures.length
    ? table(["stage", "item", "dimension", "kind", "reason"], r.failures.map((f) => [f.stage,
      f.item ? h("a", { href: `#/run/${r.i}?${q({ item: f.item })}`, text: f.item }) : "—", f.dim, f.kind, str(f.reason)]))
    : h("p", { class: "muted", text: "No failures." });
  const ratings = r.batches.filter((b) => !b.choices && (!dim || b.dim === dim));
  const batchList = ratings.map((b) => h("div", { class: "batch" },
    h("b", { text: `${b.kind}${b.dim ? ` · ${dimName(r.scale, b.dim)}` : ""}: score ${fmt(b.score)}` }), " items ",
    b.ids.map((id) => [h("a", { href: `#/run/${r.i}?${q({ dim, item: id })}`, text: id }), " "]),
    b.analysis !== null ? h("div", { class: "analysis", text: str(b.analysis) }) : null,
    b.error !== null ? h("div", { class: "fail", text: `error: ${str(b.error)}` }) : null,
    b.parsed ? h("div", { class: "muted", text: `parsed: ${b.parsed.join(", ")}` }) : null,
    b.fallback && b.fallback.length ? h("div", { class: "muted", text: `fell back to OC: ${b.fallback.join(", ")}` }) : null));
  const items = r.items.filter((it) => (!dim || it.d === dim)
    && (!only || it.fl.length || it.tr || it.e !== null || failuresOf[it.id]));
  const itemCards = items.map((it) => {
    const mem = it.m === null
      ? h("div", { class: "muted", text: "memories: not reported by this RPA" })
      : h("details", { class: "mem" }, h("summary", { text: `memories retrieved (${it.m.length})` }), h("ol", {}, it.m.map((m) => h("li", { text: str(m) }))));
    return h("article", { class: `item${it.id === focus ? " hl" : ""}`, id: `item-${it.id}` },
      h("header", {}, h("b", { text: it.id }), h("span", { text: dimName(r.scale, it.d) }), it.key ? h("span", { text: `key ${it.key}` }) : null,
        it.sec !== null ? h("span", { text: `${fmt(it.sec, 1)} s` }) : null,
        it.fl.length ? h("span", { class: "badge injection", title: it.fl.join(", "), text: "injection" }) : null,
        it.tr ? h("span", { class: "badge truncated", text: "truncated" }) : null,
        (failuresOf[it.id] || []).map((f) => h("span", { class: `badge ${f.kind || "error"}`, text: f.kind || f.stage }))),
      it.st !== null ? h("div", { class: "muted", text: `statement: ${str(it.st)}` }) : null,
      h("div", { class: "q", text: str(it.q) }),
      mem,
      it.a !== null ? h("div", { class: "a answer", text: str(it.a) }) : h("div", { class: "a err", text: `no answer: ${it.ek || "error"}: ${str(it.e) || ""}` }),
      it.fl.length ? h("div", { class: "fail", text: `injection signals: ${it.fl.join(", ")}` }) : null,
      itemAssessment(r, it, batchesOf),
      (failuresOf[it.id] || []).map((f) => h("div", { class: "fail", text: `failure (${f.stage}, ${f.kind || "—"}): ${str(f.reason) || ""}` })));
  });
  const dims = Object.keys(r.scores).length ? Object.keys(r.scores) : [...new Set(r.items.map((it) => it.d))];
  const controls = h("div", { class: "filters card" },
    h("label", {}, "dimension", h("select", { name: "dim", onchange: (e) => go("dim", e.target.value) },
      h("option", { value: "", text: "all" }), dims.map((d) => h("option", { value: d, selected: d === dim, text: dimName(r.scale, d) })))),
    h("label", {}, "items", h("select", { name: "only", onchange: (e) => go("only", e.target.value) },
      h("option", { value: "", text: "all" }), h("option", { value: "problems", selected: !!only, text: "flagged or failed only" }))));
  if (focus) setTimeout(() => { const el = document.getElementById(`item-${focus}`); if (el) el.scrollIntoView({ block: "center" }); }, 0);
  return [
    h("p", {}, h("a", { href: lastRuns, text: "← runs" })),
    h("h2", { text: `${r.character} — ${r.scale} — ${r.method} — T=${r.T} trial ${r.trial}` }),
    h("div", { class: "card" }, facts),
    h("h3", { text: "Scores (click a dimension for the items behind it)" }),
    table(["dimension", "score", "item mean", "type", "items", "failed"], scoreRows),
    h("h3", { text: "Failures" }), failures,
    batchList.length ? [h("h3", { text: `Assessor ratings per batch${dim ? ` — ${dimName(r.scale, dim)}` : ""}` }), batchList] : null,
    h("h3", { text: `Items (${items.length} of ${r.items.length})` }), controls, itemCards,
  ];
}

// -- figures and tables -----------------------------------------------------------------

function figureMatches(f, cfg) {
  if (f.cfg === cfg) return true;
  const c = D.configs[cfg];
  return !!(f.config && f.config.assessor_model === "*" && c && f.config.scale === c.scale && f.config.method === c.method && f.config.rpa_model === c.rpa_model);
}

function viewFigures(params) {
  const cfg = Number(params.get("cfg") || 0);
  const chars = D.overview.characters;
  const character = params.get("character") || chars[0];
  const go = (k, v) => { location.hash = `#/figures?${q({ cfg, character, [k]: v })}`; };
  const controls = h("div", { class: "filters card" },
    h("label", {}, "configuration (scale · method · RPA · assessor)", h("select", { name: "cfg", onchange: (e) => go("cfg", e.target.value) },
      D.configs.map((c, i) => h("option", { value: i, selected: i === cfg, text: c.label })))),
    h("label", {}, "character", h("select", { name: "character", onchange: (e) => go("character", e.target.value) },
      chars.map((c) => h("option", { value: c, selected: c === character, text: c })))));
  const mine = D.figures.filter((f) => figureMatches(f, cfg) && (f.character === null || f.character === character));
  const order = ["profile", "temperature", "items", "faithfulness", "alignment", "pca", "norms", "agreement", "shift", "prompt", "drift"];
  const names = { profile: "Profile and labels", temperature: "Scores across temperatures", items: "Item distributions", faithfulness: "Faithfulness",
    alignment: "Alignment with the labels", pca: "PCA map of profiles", norms: "Norms", agreement: "Assessor agreement",
    shift: "Counterbalancing: score shifts", prompt: "Interviewer prompt: variance components", drift: "Drift within a conversation" };
  const out = [h("h2", { text: "Figures" }), h("p", { class: "muted", text: "One configuration at a time: scores of different RPA or assessor models are never pooled." }), controls];
  for (const kind of order) {
    const figs = mine.filter((f) => f.kind === kind);
    if (figs.length) out.push(h("h3", { text: names[kind] }), figs.map((f) => chart(f.spec)));
  }
  if (mine.length === 0) out.push(h("p", { class: "muted", text: "No figure for this selection." }));
  return out;
}

function viewTables(params) {
  const cfg = params.get("cfg") === null ? -1 : Number(params.get("cfg"));
  const c = D.configs[cfg];
  const controls = h("div", { class: "filters card" }, h("label", {}, "configuration",
    h("select", { name: "cfg", onchange: (e) => { location.hash = `#/tables?${q({ cfg: e.target.value })}`; } },
      h("option", { value: "", text: "all (one row per configuration)" }),
      D.configs.map((x, i) => h("option", { value: i, selected: i === cfg, text: x.label })))));
  const keep = (t) => (row) => !c || ["scale", "method", "rpa_model", "assessor_model"].every((k) => {
    const j = t.columns.indexOf(k);
    return j < 0 || String(row[j]) === c[k];
  });
  return [h("h2", { text: "Tables" }), controls, D.tables.map((t) => [h("h3", { text: t.name }), table(t.columns, t.rows.filter(keep(t)))])];
}

// -- routing ---------------------------------------------------------------------------------

function route() {
  const hash = location.hash || "#/overview";
  const [path, query] = hash.slice(2).split("?");
  const [view, ...restParts] = path.split("/");
  const rest = restParts.join("/");
  const params = new URLSearchParams(query || "");
  const views = { overview: viewOverview, characters: viewCharacters, runs: viewRuns, run: viewRun, figures: viewFigures, tables: viewTables };
  const draw = views[view] || viewOverview;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === (view === "run" ? "runs" : view));
  const main = document.getElementById("main");
  main.replaceChildren(...[draw(params, rest)].flat(Infinity).filter(Boolean));
  if (!params.get("item")) window.scrollTo(0, 0);
}

(async () => {
  try {
    if (typeof DecompressionStream === "undefined") throw new Error("this browser cannot inflate the report (no DecompressionStream); use a current Chrome, Firefox or Safari");
    const [plotly, data] = await Promise.all([inflate("plotly-gz"), inflate("data-gz")]);
    const script = document.createElement("script");
    script.text = plotly;
    document.head.append(script);
    D = JSON.parse(data);
    document.getElementById("live").hidden = !D.live;
    window.addEventListener("hashchange", route);
    route();
    document.body.dataset.ready = "1";
  } catch (err) {
    document.getElementById("main").replaceChildren(h("p", { id: "error", text: `The report could not be shown: ${err}` }));
  }
})();
