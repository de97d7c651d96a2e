// The tuner's dashboard: studies, a live study page with plots, a sortable, filterable, paged trial table, and
// a side-by-side comparison of chosen trials. Plain browser JavaScript served by the tuner itself: no CDN.
"use strict";

const app = document.getElementById("app");
const connection = document.getElementById("connection");
const PLOTS = ["history", "parallel-coordinates", "slice", "importance", "contour", "intermediate"];
const PAGE = 50;
const REFRESH_MS = 1500;
let timer = null;
let view = null; // the page shown now, with its state

// --- the API: a key is asked for once (if the server wants one) and kept in this browser ---------------------
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const key = localStorage.getItem("tuner-key");
  if (key) headers["X-Api-Key"] = key;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    const entered = prompt("This tuner server needs an API key:");
    if (entered) {
      localStorage.setItem("tuner-key", entered);
      keyCookie();
      return api(path, options);
    }
  }
  connection.textContent = response.ok ? "connected" : "";
  return response;
}

// The Orleans Dashboard's own requests cannot carry a header: the key goes there as a cookie, renewed on each visit.
function keyCookie() {
  const key = localStorage.getItem("tuner-key");
  if (key) document.cookie = `tuner-key=${encodeURIComponent(key)}; path=/orleans; max-age=2592000; SameSite=Strict`;
}
keyCookie();

async function json(path, options) {
  const response = await api(path, options);
  if (!response.ok) {
    let detail = response.statusText;
    try { const problem = await response.json(); detail = problem.detail || problem.title || detail; } catch { }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.status === 204 ? null : response.json();
}

// Plots are fetched (not linked) so that the API key travels with them.
async function loadImage(img, path) {
  const response = await api(path);
  const note = img.nextElementSibling?.classList.contains("plot-note") ? img.nextElementSibling : null;
  if (!response.ok) {
    // Say why there is no plot (a contour needs two numeric parameters, say) instead of showing a broken image.
    let reason = `${response.status}`;
    try { const problem = await response.json(); reason = problem.detail || problem.title || reason; } catch { }
    img.hidden = true;
    if (note) { note.textContent = `No plot: ${reason}`; note.hidden = false; }
    return;
  }
  img.hidden = false;
  if (note) note.hidden = true;
  const url = URL.createObjectURL(await response.blob());
  const old = img.dataset.url;
  img.onload = () => { img.dataset.loaded = "true"; if (old) URL.revokeObjectURL(old); };
  img.dataset.url = url;
  img.src = url;
}

// --- helpers ------------------------------------------------------------------------------------------------
const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
};
const fmt = (v) => v === null || v === undefined ? "–" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : String(v);
const seconds = (t) => t.startedAt && t.completedAt ? ((new Date(t.completedAt) - new Date(t.startedAt)) / 1000).toFixed(1) + " s" : "–";
const progress = (s) => el("span", { class: "progress", title: `${s.done}/${s.maxTrials}` },
  el("span", { style: `width:${Math.min(100, 100 * (s.done) / s.maxTrials)}%` }));
const statusCell = (status) => el("span", { class: `status status-${status}` }, status);

function schedule(refresh) {
  clearTimeout(timer);
  timer = setTimeout(async () => { try { await refresh(); } catch (e) { connection.textContent = "reconnecting…"; } schedule(refresh); }, REFRESH_MS);
}

// --- the studies ---------------------------------------------------------------------------------------------
async function showStudies() {
  view = { kind: "studies" };
  const body = el("tbody", { "data-testid": "studies" });
  app.replaceChildren(el("h1", {}, "Studies"), el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ["Name", "Status", "Progress", "Done", "Running", "Failed", "Best", "Created"].map((h) => el("th", {}, h)))),
    body)));
  async function refresh() {
    const studies = await json("/api/studies");
    body.replaceChildren(...(studies.length === 0
      ? [el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No studies yet: submit one with `tuner submit STUDY.yaml`."))]
      : studies.map((s) => el("tr", { "data-testid": "study-row" },
        el("td", {}, el("a", { href: `#/studies/${s.id}` }, s.name)),
        el("td", {}, statusCell(s.status)),
        el("td", {}, progress(s)),
        el("td", { class: "num" }, `${s.done}/${s.maxTrials}`),
        el("td", { class: "num" }, s.running),
        el("td", { class: "num" }, s.failed),
        el("td", { class: "num" }, s.bestTrial ? `${fmt(s.bestTrial.metrics[s.objective.metric])} (#${s.bestTrial.number})` : "–"),
        el("td", {}, new Date(s.createdAt).toLocaleString())))));
  }
  await refresh();
  schedule(refresh);
}

// --- one study -----------------------------------------------------------------------------------------------
async function showStudy(id) {
  const state = { kind: "study", id, status: "", sort: "number", cursors: [null], page: 0, selected: new Set(), plotsAt: 0, finished: false };
  view = state;
  const summary = el("div", { class: "summary", "data-testid": "summary" });
  const stop = el("button", { class: "danger", "data-testid": "stop", onclick: async () => {
    if (!confirm("Stop this study? Its running trials are killed.")) return;
    try { await json(`/api/studies/${id}/stop`, { method: "POST" }); await refresh(); } catch (e) { alert(e.message); }
  } }, "Stop study");
  const plots = el("div", { class: "plots", "data-testid": "plots" });
  const images = {};
  for (const kind of PLOTS.filter((k) => k !== "intermediate").concat("intermediate")) {
    images[kind] = el("img", { alt: kind, "data-testid": `plot-${kind}` });
    plots.append(el("figure", {}, images[kind], el("p", { class: "plot-note muted", hidden: true }), el("figcaption", {}, kind,
      el("span", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); download(kind, "svg"); } }, "SVG"), " · ",
        el("a", { href: "#", onclick: (e) => { e.preventDefault(); download(kind, "png"); } }, "PNG")))));
  }
  const filter = el("select", { "data-testid": "filter", onchange: () => { state.status = filter.value; state.cursors = [null]; state.page = 0; refreshTrials(); } },
    ["", "Succeeded", "Failed", "Running", "Cancelled", "EarlyStopped"].map((s) => el("option", { value: s }, s || "all statuses")));
  const prev = el("button", { "data-testid": "prev", onclick: () => { if (state.page > 0) { state.page--; refreshTrials(); } } }, "← Previous");
  const next = el("button", { "data-testid": "next", onclick: () => { if (state.cursors[state.page + 1]) { state.page++; refreshTrials(); } } }, "Next →");
  const compare = el("button", { class: "primary", "data-testid": "compare", onclick: () => showComparison() }, "Compare selected");
  const pageInfo = el("span", { class: "muted", "data-testid": "page-info" });
  const table = el("table", { "data-testid": "trials" });
  const comparison = el("div", { "data-testid": "comparison" });
  app.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← Studies")),
    el("h1", { "data-testid": "study-name" }, "Study"), summary, el("div", { class: "toolbar" }, stop),
    el("h2", {}, "Plots"), plots,
    el("h2", {}, "Trials"), el("div", { class: "toolbar" }, filter, prev, next, pageInfo, compare),
    el("div", { class: "scroll" }, table), comparison);

  let study = null;
  let trials = [];

  async function refresh() {
    study = await json(`/api/studies/${id}`);
    app.querySelector("[data-testid=study-name]").textContent = `${study.name}`;
    summary.replaceChildren(
      el("div", {}, el("span", {}, "status"), statusCell(study.status)),
      el("div", {}, el("span", {}, "progress"), progress(study), ` ${study.done}/${study.maxTrials}`),
      el("div", {}, el("span", {}, "running"), String(study.running)),
      el("div", {}, el("span", {}, "failed"), String(study.failed)),
      el("div", {}, el("span", {}, "stopped early"), String(study.earlyStopped)),
      el("div", {}, el("span", {}, "steps from cache"), String(study.cachedSteps)),
      el("div", {}, el("span", {}, `best ${study.objective.metric} (${study.objective.goal})`),
        study.bestTrial ? `${fmt(study.bestTrial.metrics[study.objective.metric])} (trial ${study.bestTrial.number})` : "–"),
      // The model's best can differ from the best observed value, which may be a lucky draw of a noisy metric; where
      // the model found no signal it is the best observed trial, and is not called the model's.
      el("div", { "data-testid": "recommended" }, el("span", {}, "recommended"),
        study.recommendedTrial
          ? `${fmt(study.recommendedTrial.metrics[study.objective.metric])} (trial ${study.recommendedTrial.number}` +
            (study.modelLearnt ? ", the model's best)" : ", best observed: the model found no signal)")
          : "–"),
      study.reason ? el("div", {}, el("span", {}, "reason"), study.reason) : "");
    stop.disabled = !(study.status === "Running" || study.status === "Created");
    // Plots redraw every few seconds while the study runs, once more when it ends.
    const running = study.status === "Running" || study.status === "Created";
    if (Date.now() - state.plotsAt > 5000 && (running || !state.finished)) {
      state.plotsAt = Date.now();
      state.finished = !running;
      // PNG on the page (an SVG of thousands of points weighs megabytes); SVG stays a download.
      for (const kind of PLOTS) loadImage(images[kind], `/api/studies/${id}/plots/${kind}.png`);
    }
    await refreshTrials();
  }

  async function refreshTrials() {
    const query = new URLSearchParams({ sort: state.sort, limit: PAGE });
    if (state.status) query.set("status", state.status);
    if (state.cursors[state.page]) query.set("after", state.cursors[state.page]);
    const page = await json(`/api/studies/${id}/trials?${query}`);
    state.cursors[state.page + 1] = page.next;
    trials = page.trials;
    const names = [...new Set(trials.flatMap((t) => Object.keys(t.parameters)))];
    const metrics = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))];
    const sortable = (label, key) => el("th", { class: "sortable", onclick: () => {
      state.sort = state.sort === key ? "-" + key : key; state.cursors = [null]; state.page = 0; refreshTrials(); } },
      label + (state.sort === key ? " ▲" : state.sort === "-" + key ? " ▼" : ""));
    table.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, ""), sortable("#", "number"), el("th", {}, "Status"),
        metrics.map((m) => m === study?.objective.metric ? sortable(m, "value") : el("th", {}, m)),
        names.map((n) => el("th", {}, n)), sortable("Duration", "duration"), el("th", {}, "Steps"), el("th", {}, "Error"))),
      el("tbody", {}, trials.map((t) => el("tr", { "data-testid": "trial-row", "data-number": t.number },
        el("td", {}, el("input", { type: "checkbox", "data-testid": "select", checked: state.selected.has(t.number),
          onchange: (e) => { e.target.checked ? state.selected.add(t.number) : state.selected.delete(t.number); compare.textContent = `Compare selected (${state.selected.size})`; } })),
        el("td", { class: "num" }, t.number), el("td", {}, statusCell(t.status)),
        metrics.map((m) => el("td", { class: "num" }, fmt(t.metrics[m]))),
        names.map((n) => el("td", { class: "num" }, fmt(t.parameters[n]))),
        el("td", { class: "num" }, seconds(t)),
        el("td", {}, t.steps.map((s) => `${s.name}${s.cached ? " (cached)" : ""}`).join(", ")),
        el("td", { class: "error", "data-testid": "trial-error", title: t.retries ? t.retries.join("\n") : null }, t.error || "",
          t.retries ? ` (${t.retries.length} earlier attempt${t.retries.length === 1 ? "" : "s"} given up)` : "")))));
    pageInfo.textContent = `${page.total} trials, page ${state.page + 1} of ${Math.max(1, Math.ceil(page.total / PAGE))}`;
    prev.disabled = state.page === 0;
    next.disabled = !page.next;
  }

  async function showComparison() {
    const chosen = [...state.selected].sort((a, b) => a - b);
    if (chosen.length < 2) { alert("Select at least two trials to compare."); return; }
    const all = [];
    let after = null;
    do {  // the chosen trials' records, whichever page they are on
      const page = await json(`/api/studies/${id}/trials?limit=1000${after ? `&after=${after}` : ""}`);
      all.push(...page.trials.filter((t) => state.selected.has(t.number)));
      after = page.next;
    } while (after && all.length < chosen.length);
    const names = [...new Set(all.flatMap((t) => Object.keys(t.parameters).concat(Object.keys(t.metrics).map((m) => "metric:" + m))))];
    const curves = el("img", { alt: "learning curves", "data-testid": "compare-plot" });
    comparison.replaceChildren(el("div", { class: "compare" },
      el("h2", {}, `Comparing trials ${chosen.join(", ")}`),
      el("div", { class: "scroll" }, el("table", { "data-testid": "compare-table" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), all.map((t) => el("th", {}, `trial ${t.number}`)))),
        el("tbody", {}, names.map((n) => el("tr", {}, el("th", {}, n.replace("metric:", "")),
          all.map((t) => el("td", { class: "num" }, fmt(n.startsWith("metric:") ? t.metrics[n.slice(7)] : t.parameters[n])))))))),
      el("figure", {}, curves)));
    await loadImage(curves, `/api/studies/${id}/plots/intermediate.png?trials=${chosen.join(",")}`);
  }

  async function download(kind, format) {
    const response = await api(`/api/studies/${id}/plots/${kind}.${format}`);
    if (!response.ok) { alert(`no ${kind} plot: ${response.status}`); return; }
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${study?.name || id}-${kind}.${format}` });
    link.click();
  }

  await refresh();
  schedule(refresh);
}

// --- routing -------------------------------------------------------------------------------------------------
async function route() {
  clearTimeout(timer);
  const match = location.hash.match(/^#\/studies\/([0-9a-f]+)/);
  try {
    if (match) await showStudy(match[1]);
    else await showStudies();
  } catch (e) {
    app.replaceChildren(el("p", { class: "error" }, e.message), el("p", {}, el("a", { href: "#/" }, "← Studies")));
  }
}
window.addEventListener("hashchange", route);
route();
