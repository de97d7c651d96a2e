// The tuner's dashboard: studies, a live study page with plots, a sortable, filterable, paged trial table, a
// comparison of chosen trials and a page per trial with its logs. Every view has a URL that can be shared:
//   #/studies/ID?status=Failed&param=x:0.2..0.5&sort=-value&page=2&after=CURSOR   the study, its table as it was
//   #/studies/ID/compare/3,7                                      trials side by side
//   #/studies/ID/trials/3                                         one trial
// A study of several objectives shows its Pareto front, whose trials are chosen to compare by a click on the front.
// Plain browser JavaScript served by the tuner itself: no CDN.
"use strict";

const app = document.getElementById("app");
const connection = document.getElementById("connection");
const PLOTS = ["history", "parallel-coordinates", "slice", "importance", "contour", "intermediate", "edf", "timeline"];
// Drawn first, and only, for a study of several objectives or constraints (one with paretoTrials).
const PARETO_PLOTS = ["pareto-front", "hypervolume-history"];
const SVG = "http://www.w3.org/2000/svg";
const PAGE = 50;
// The studies list has no event stream of its own: it asks this often, and redraws only what changed.
const LIST_REFRESH_MS = 5000;
// Plots are drawn again at most this often while a study runs (each is a server-side drawing).
const PLOT_REFRESH_MS = 5000;
// Metric columns in the trial table beside the objective; a trial's page shows all of them.
const TABLE_METRICS = 6;
// step and epoch give the step of the values on their line (DESIGN.md, Metrics): they are no metric to compare.
const STEP_NAMES = new Set(["step", "epoch"]);
const LOG_TAIL = 200;
let timer = null;
let following = null; // the event stream the page follows, aborted when the page changes
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

async function problem(response) {
  try { const body = await response.json(); return body.detail || body.title || response.statusText; } catch { return response.statusText; }
}

/// The answer's text, or an error with the problem's detail.
async function text(path, options) {
  const response = await api(path, options);
  if (!response.ok) throw new Error(`${response.status}: ${await problem(response)}`);
  return response.text();
}

async function json(path, options) {
  const body = await text(path, options);
  return body === "" ? null : JSON.parse(body);
}

// Follows a study's server-sent events (read with fetch, since EventSource cannot send the API key): onEvent gets
// each event's study and answers whether the study has ended. The stream ends with the study; a cut one is opened again.
async function follow(id, onEvent) {
  const controller = new AbortController();
  following?.abort();
  following = controller;
  while (!controller.signal.aborted) {
    let ended = false;
    try {
      const response = await api(`/api/studies/${id}/events`, { signal: controller.signal });
      if (!response.ok) throw new Error(`${response.status}: ${await problem(response)}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          const data = buffer.slice(0, cut).split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5)).join("\n");
          buffer = buffer.slice(cut + 2);
          if (data) ended = await onEvent(JSON.parse(data));
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
      connection.textContent = "reconnecting…";
    }
    if (ended) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

const ended = (status) => !(status === "Running" || status === "Created");

// Plots are fetched (not linked) so that the API key travels with them. One that cannot be drawn shows only why.
async function loadImage(img, path) {
  const response = await api(path);
  const note = img.nextElementSibling?.classList.contains("plot-note") ? img.nextElementSibling : null;
  if (!response.ok) {
    img.hidden = true;
    img.dataset.failed = "true";
    if (note) { note.textContent = `No plot: ${await problem(response)}`; note.hidden = false; }
    return;
  }
  img.hidden = false;
  delete img.dataset.failed;
  if (note) note.hidden = true;
  const url = URL.createObjectURL(await response.blob());
  const old = img.dataset.url;
  img.onload = () => { img.dataset.loaded = "true"; if (old) URL.revokeObjectURL(old); };
  img.dataset.url = url;
  img.src = url;
}

// A plot enlarged over the page, as SVG (sharp at any size); a click or Escape closes it.
async function enlarge(path, title) {
  const response = await api(path);
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const close = () => { box.remove(); URL.revokeObjectURL(url); document.removeEventListener("keydown", onKey); };
  const onKey = (e) => { if (e.key === "Escape") close(); };
  const box = el("div", { class: "lightbox", "data-testid": "lightbox", onclick: close }, el("img", { src: url, alt: title }));
  document.addEventListener("keydown", onKey);
  document.body.append(box);
}

// Downloads what the API answers at path (the key travels with the request, so no plain link will do).
async function download(path, name) {
  const response = await api(path);
  if (!response.ok) { alert(`${name}: ${await problem(response)}`); return; }
  el("a", { href: URL.createObjectURL(await response.blob()), download: name }).click();
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
// A trial's status; stopping early is the early-stopping rule at work, not an error: a quiet badge, the reason on hover.
const trialStatus = (t) => t.status === "EarlyStopped"
  ? el("span", { class: "badge", title: t.error || "", "data-testid": "early-stopped" }, "stopped early")
  : statusCell(t.status);
// A metric's values, the objective first, without step and epoch.
const metricNames = (trials, objective) => [...new Set([objective, ...trials.flatMap((t) => Object.keys(t.metrics))])]
  .filter((m) => !STEP_NAMES.has(m) && trials.some((t) => m in t.metrics));
// A study of several objectives, whose answer lists them with its front.
const several = (detail) => (detail.objectives?.length ?? 1) > 1;
const back = (href, label) => el("p", {}, el("a", { href }, `← ${label}`));
const trialLink = (id, n) => el("a", { href: `#/studies/${id}/trials/${n}`, "data-testid": "trial-link" }, String(n));

// --- the studies ---------------------------------------------------------------------------------------------
async function showStudies() {
  view = { kind: "studies" };
  const body = el("tbody", { "data-testid": "studies" });
  app.replaceChildren(el("h1", {}, "Studies"), el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ["Name", "Status", "Progress", "Done", "Running", "Failed", "Best", "Created"].map((h) => el("th", {}, h)))),
    body)));
  let shown = null;
  async function refresh() {
    const answer = await text("/api/studies");
    if (answer === shown) return; // nothing changed: the rows (and a selection in them) stay
    shown = answer;
    const studies = JSON.parse(answer);
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
  async function poll() {
    try { await refresh(); } catch { connection.textContent = "reconnecting…"; }
    timer = setTimeout(poll, LIST_REFRESH_MS);
  }
  await refresh();
  timer = setTimeout(poll, LIST_REFRESH_MS);
}

// --- one study -----------------------------------------------------------------------------------------------
async function showStudy(id, query) {
  const state = { kind: "study", id, status: "", params: [], sort: "number", cursors: [null], page: 0, selected: new Set(), shownTrials: null, plotsDrawn: null, plotTimer: null, plotsAt: 0 };
  view = state;
  const summary = el("div", { class: "summary", "data-testid": "summary" });
  const stop = el("button", { class: "danger", "data-testid": "stop", onclick: async () => {
    if (!confirm("Stop this study? Its running trials are killed.")) return;
    try { await json(`/api/studies/${id}/stop`, { method: "POST" }); } catch (e) { alert(e.message); }
  } }, "Stop study");
  const plots = el("div", { class: "plots", "data-testid": "plots" });
  const images = {};
  // What the contour and the learning curves show, as the API takes it: two parameters, chosen trials.
  const choices = {
    contour: { name: "params", input: el("input", { "data-testid": "choose-contour", placeholder: "two parameters: x1,x2", size: 22 }) },
    intermediate: { name: "trials", input: el("input", { "data-testid": "choose-intermediate", placeholder: "trials: 3,7 (default: the best 10)", size: 28 }) },
  };
  const plotPath = (kind, format) => {
    const chosen = choices[kind]?.input.value.replace(/\s+/g, "");
    return `/api/studies/${id}/plots/${kind}.${format}${chosen ? `?${choices[kind].name}=${encodeURIComponent(chosen)}` : ""}`;
  };
  const drawPlot = (kind) => loadImage(images[kind], plotPath(kind, "png"));
  const figures = {};
  const plotKinds = () => study?.paretoTrials ? [...PARETO_PLOTS, ...PLOTS] : PLOTS;
  for (const kind of [...PARETO_PLOTS, ...PLOTS]) {
    images[kind] = el("img", { alt: kind, "data-testid": `plot-${kind}`, title: "click to enlarge", onclick: () => enlarge(plotPath(kind, "svg"), kind) });
    const choice = choices[kind] ? el("form", { class: "choice", onsubmit: (e) => { e.preventDefault(); drawPlot(kind); } }, choices[kind].input, el("button", {}, "Draw")) : "";
    plots.append(figures[kind] = el("figure", { hidden: PARETO_PLOTS.includes(kind) }, choice, images[kind], el("p", { class: "plot-note muted", hidden: true, "data-testid": `plot-note-${kind}` }), el("figcaption", {}, kind,
      el("span", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); download(plotPath(kind, "svg"), `${state.name || id}-${kind}.svg`); } }, "SVG"), " · ",
        el("a", { href: "#", onclick: (e) => { e.preventDefault(); download(plotPath(kind, "png"), `${state.name || id}-${kind}.png`); } }, "PNG")))));
  }
  const firstPage = () => { state.cursors = [null]; state.page = 0; };
  const filter = el("select", { "data-testid": "filter", onchange: () => { state.status = filter.value; firstPage(); refreshTrials(); } },
    ["", "Succeeded", "Failed", "Running", "Cancelled", "EarlyStopped"].map((s) => el("option", { value: s }, s || "all statuses")));
  // Parameter conditions as the API takes them (?param=), separated by spaces: a range of a number, or a category.
  const paramFilter = el("input", { "data-testid": "param-filter", size: 30, placeholder: "parameters: x:0.2..0.5 opt:adam",
    title: "NAME:MIN..MAX (a bound may be left out) or NAME:CATEGORY; several are all met, several of one name are alternatives",
    onchange: () => { state.params = paramFilter.value.split(/\s+/).filter(Boolean); firstPage(); refreshTrials(); } });
  const filterProblem = el("span", { class: "error", "data-testid": "filter-problem" });
  // A page opened from a URL knows only its own cursor: Previous then starts again from the first page.
  const prev = el("button", { "data-testid": "prev", onclick: () => {
    if (state.page === 0) return;
    if (state.cursors[state.page - 1] === undefined) firstPage(); else state.page--;
    refreshTrials();
  } }, "← Previous");
  const next = el("button", { "data-testid": "next", onclick: () => { if (state.cursors[state.page + 1]) { state.page++; refreshTrials(); } } }, "Next →");
  const compareChosen = () => {
    const chosen = [...state.selected].sort((a, b) => a - b);
    if (chosen.length < 2) { alert("Select at least two trials to compare."); return; }
    location.hash = `#/studies/${id}/compare/${chosen.join(",")}`;
  };
  const compare = el("button", { class: "primary", "data-testid": "compare", onclick: compareChosen }, "Compare selected");
  const compareFront = el("button", { class: "primary", "data-testid": "compare-front", onclick: compareChosen }, "Compare selected");
  // A trial chosen or let go, in the table or on the front: both show it, and both buttons count it.
  const choose = (number, chosen) => {
    chosen ? state.selected.add(number) : state.selected.delete(number);
    for (const button of [compare, compareFront]) button.textContent = `Compare selected (${state.selected.size})`;
    for (const box of app.querySelectorAll(`input[data-number="${number}"]`)) box.checked = chosen;
    for (const point of app.querySelectorAll(`[data-testid=front-point][data-number="${number}"]`)) point.classList.toggle("chosen", chosen);
  };
  const front = el("section", { hidden: true, "data-testid": "front" });
  const pageInfo = el("span", { class: "muted", "data-testid": "page-info" });
  const table = el("table", { "data-testid": "trials" });
  app.replaceChildren(
    back("#/", "Studies"),
    el("h1", { "data-testid": "study-name" }, "Study"), summary, el("div", { class: "toolbar" }, stop), front,
    el("h2", {}, "Plots ", el("span", { class: "muted small" }, "(click one to enlarge)")), plots,
    el("h2", {}, "Trials"), el("div", { class: "toolbar" }, filter, paramFilter, filterProblem, prev, next, pageInfo, compare),
    el("div", { class: "scroll" }, table));

  let study = null;

  // The table's state, from the URL and back: a view can be shared as it is.
  state.show = (query) => {
    state.status = query.get("status") || "";
    state.params = query.getAll("param");
    paramFilter.value = state.params.join(" ");
    state.sort = query.get("sort") || "number";
    const page = Math.max(1, Number(query.get("page")) || 1) - 1;
    state.cursors = [null];
    state.page = query.get("after") ? page : 0;
    if (state.page > 0) state.cursors[state.page] = query.get("after");
    filter.value = state.status;
    return refreshTrials();
  };
  function writeQuery() {
    const query = new URLSearchParams();
    if (state.status) query.set("status", state.status);
    for (const condition of state.params) query.append("param", condition);
    if (state.sort !== "number") query.set("sort", state.sort);
    if (state.page > 0) { query.set("page", state.page + 1); query.set("after", state.cursors[state.page]); }
    const hash = `#/studies/${id}${query.size ? "?" + query : ""}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  async function showSummary() {
    const detail = await json(`/api/studies/${id}`);
    study = detail;
    state.name = detail.name;
    app.querySelector("[data-testid=study-name]").textContent = detail.name;
    summary.replaceChildren(
      el("div", {}, el("span", {}, "status"), statusCell(detail.status)),
      el("div", {}, el("span", {}, "progress"), progress(detail), ` ${detail.done}/${detail.maxTrials}`),
      el("div", {}, el("span", {}, "running"), String(detail.running)),
      el("div", {}, el("span", {}, "failed"), String(detail.failed)),
      el("div", {}, el("span", {}, "stopped early"), String(detail.earlyStopped)),
      el("div", {}, el("span", {}, "steps from cache"), String(detail.cachedSteps)),
      several(detail)
        ? el("div", { "data-testid": "front-summary" }, el("span", {}, "Pareto front"),
          `${detail.paretoTrials.length} trial${detail.paretoTrials.length === 1 ? "" : "s"}` +
          (detail.hypervolume ? `, hypervolume ${fmt(detail.hypervolume.value)}` : ""))
        : el("div", {}, el("span", {}, `best ${detail.objective.metric} (${detail.objective.goal})`),
          detail.bestTrial ? [fmt(detail.bestTrial.metrics[detail.objective.metric]), " (trial ", trialLink(id, detail.bestTrial.number), ")"] : "–"),
      // The model's best can differ from the best observed value, which may be a lucky draw of a noisy metric; where
      // the model found no signal it is the best observed trial, and is not called the model's.
      el("div", { "data-testid": "recommended" }, el("span", {}, "recommended"),
        detail.recommendedTrial
          ? `${fmt(detail.recommendedTrial.metrics[detail.objective.metric])} (trial ${detail.recommendedTrial.number}` +
            (detail.modelLearnt ? ", the model's best)" : ", best observed: the model found no signal)")
          : "–"),
      detail.reason ? el("div", {}, el("span", {}, "reason"), detail.reason) : "");
    stop.disabled = ended(detail.status);
    for (const kind of PARETO_PLOTS) figures[kind].hidden = !detail.paretoTrials;
    showFront(detail);
  }

  // A study of several objectives: its front as a scatter of two objectives (chosen when there are more) and a table;
  // a click on a point or a box chooses the trial for comparison. Drawn again only when the front or the axes change.
  // One objective under constraints has its best feasible trial in the summary, as any study has its best.
  const axes = { x: 0, y: 1 };
  function showFront(detail) {
    const drawn = JSON.stringify([detail.paretoTrials, axes]);
    if (!several(detail) || drawn === state.frontDrawn) return;
    state.frontDrawn = drawn;
    const objectives = detail.objectives;
    const trials = detail.paretoTrials;
    front.hidden = false;
    if (trials.length === 0) {
      front.replaceChildren(el("h2", {}, "Pareto front"), el("p", { class: "muted", "data-testid": "front-empty" }, "No feasible trial yet: the front is drawn from the first."));
      return;
    }
    const axisChoice = (axis, testid) => el("select", { "data-testid": testid, onchange: (e) => { axes[axis] = Number(e.target.value); showFront(detail); } },
      objectives.map((o, k) => el("option", { value: k, selected: axes[axis] === k }, o.metric)));
    front.replaceChildren(
      el("h2", {}, "Pareto front ", el("span", { class: "muted small" }, "(click trials on the front to choose them, then compare)")),
      el("div", { class: "front" },
        el("figure", {}, objectives.length > 2 ? el("div", { class: "choice" }, axisChoice("x", "front-x"), " against ", axisChoice("y", "front-y")) : "",
          frontScatter(trials, objectives[axes.x].metric, objectives[axes.y].metric, state.selected, choose)),
        el("div", { class: "scroll" }, el("table", { "data-testid": "front-table" },
          el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "#"), objectives.map((o) => el("th", {}, `${o.metric} (${o.goal})`)))),
          el("tbody", {}, trials.map((t) => el("tr", { "data-testid": "front-row" },
            el("td", {}, el("input", { type: "checkbox", "data-number": t.number, checked: state.selected.has(t.number), onchange: (e) => choose(t.number, e.target.checked) })),
            el("td", { class: "num" }, trialLink(id, t.number)),
            objectives.map((o) => el("td", { class: "num" }, fmt(t.metrics[o.metric]))))))))),
      el("div", { class: "toolbar" }, compareFront));
  }

  // Plots are drawn again when trials end, at most every few seconds, and once more when the study ends.
  function redrawPlots() {
    const drawn = `${study.done}/${study.status}`;
    if (drawn === state.plotsDrawn) return;
    clearTimeout(state.plotTimer);
    const wait = ended(study.status) ? 0 : Math.max(0, PLOT_REFRESH_MS - (Date.now() - state.plotsAt));
    state.plotTimer = setTimeout(() => {
      state.plotsDrawn = drawn;
      state.plotsAt = Date.now();
      // PNG on the page (an SVG of thousands of points weighs megabytes); SVG when enlarged and as a download.
      for (const kind of plotKinds()) drawPlot(kind);
    }, wait);
  }

  async function refreshTrials() {
    const query = new URLSearchParams({ sort: state.sort, limit: PAGE });
    if (state.status) query.set("status", state.status);
    for (const condition of state.params) query.append("param", condition);
    if (state.cursors[state.page]) query.set("after", state.cursors[state.page]);
    let answer;
    try { answer = await text(`/api/studies/${id}/trials?${query}`); filterProblem.textContent = ""; }
    catch (e) { filterProblem.textContent = e.message; return; }
    writeQuery();
    if (answer === state.shownTrials) return; // nothing changed: the table (and a selection in it) stays as it is
    state.shownTrials = answer;
    const page = JSON.parse(answer);
    state.cursors[state.page + 1] = page.next;
    const trials = page.trials;
    const objective = study?.objective.metric;
    const names = [...new Set(trials.flatMap((t) => Object.keys(t.parameters)))];
    const metrics = metricNames(trials, objective).slice(0, TABLE_METRICS + 1);
    const sortable = (label, key) => el("th", { class: "sortable", "data-testid": `sort-${key}`, onclick: () => {
      state.sort = state.sort === key ? "-" + key : key; firstPage(); refreshTrials(); } },
      label + (state.sort === key ? " ▲" : state.sort === "-" + key ? " ▼" : ""));
    table.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, ""), sortable("#", "number"), el("th", {}, "Status"),
        metrics.map((m) => m === objective ? sortable(m, "value") : el("th", {}, m)),
        names.map((n) => el("th", {}, n)), sortable("Duration", "duration"), el("th", {}, "Steps"), el("th", {}, "Error or note"))),
      el("tbody", {}, trials.map((t) => el("tr", { "data-testid": "trial-row", "data-number": t.number },
        el("td", {}, el("input", { type: "checkbox", "data-testid": "select", "data-number": t.number, checked: state.selected.has(t.number),
          onchange: (e) => choose(t.number, e.target.checked) })),
        el("td", { class: "num" }, trialLink(id, t.number)), el("td", {}, trialStatus(t)),
        metrics.map((m) => el("td", { class: "num" }, fmt(t.metrics[m]))),
        names.map((n) => el("td", { class: "num" }, fmt(t.parameters[n]))),
        el("td", { class: "num" }, seconds(t)),
        el("td", {}, t.steps.map((s) => `${s.name}${s.cached ? " (cached)" : ""}`).join(", ")),
        errorCell(t)))));
    pageInfo.textContent = `${page.total} trials, page ${state.page + 1} of ${Math.max(1, Math.ceil(page.total / PAGE))}`;
    prev.disabled = state.page === 0;
    next.disabled = !page.next;
  }

  // The summary first: the table sorts by the study's objective.
  await showSummary();
  await state.show(query);
  follow(id, async (snapshot) => {
    await showSummary();
    await refreshTrials();
    redrawPlots();
    return ended(snapshot.status);
  });
}

// The front's trials on two objectives as an SVG of points, each a trial to click; the chosen ones are marked.
function frontScatter(trials, xMetric, yMetric, chosen, choose) {
  // The left margin holds a value of five significant digits beside the y axis.
  const [width, height, margin, left] = [460, 300, 48, 76];
  const node = (tag, attributes, ...children) => {
    const n = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) n.setAttribute(name, value);
    n.append(...children);
    return n;
  };
  const scale = (values, from, to) => {
    const [low, high] = [Math.min(...values), Math.max(...values)];
    const pad = high > low ? (high - low) * 0.08 : Math.abs(low) * 0.1 || 1;
    return { low, high, at: (v) => from + (to - from) * (v - (low - pad)) / (high - low + 2 * pad) };
  };
  const x = scale(trials.map((t) => t.metrics[xMetric]), left, width - 12);
  const y = scale(trials.map((t) => t.metrics[yMetric]), height - margin, 12);
  const label = (text, attributes) => node("text", Object.assign({ "font-size": 12, fill: "#6b7385" }, attributes), text);
  return node("svg", { viewBox: `0 0 ${width} ${height}`, class: "front-plot", "data-testid": "front-plot", role: "img" },
    node("rect", { x: left, y: 12, width: width - 12 - left, height: height - 12 - margin, fill: "none", stroke: "#dfe3ea" }),
    label(fmt(x.low), { x: x.at(x.low), y: height - margin + 16, "text-anchor": "middle" }),
    label(fmt(x.high), { x: x.at(x.high), y: height - margin + 16, "text-anchor": "middle" }),
    label(xMetric, { x: (left + width) / 2, y: height - 8, "text-anchor": "middle", fill: "#1d2433" }),
    label(fmt(y.low), { x: left - 4, y: y.at(y.low) + 4, "text-anchor": "end" }),
    label(fmt(y.high), { x: left - 4, y: y.at(y.high) + 4, "text-anchor": "end" }),
    label(yMetric, { x: 12, y: height / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${height / 2})`, fill: "#1d2433" }),
    ...trials.map((t) => {
      const point = node("circle", { cx: x.at(t.metrics[xMetric]), cy: y.at(t.metrics[yMetric]), r: 7, "data-testid": "front-point", "data-number": t.number },
        node("title", {}, `trial ${t.number}: ${xMetric}=${fmt(t.metrics[xMetric])}, ${yMetric}=${fmt(t.metrics[yMetric])}`));
      point.classList.toggle("chosen", chosen.has(t.number));
      point.addEventListener("click", () => choose(t.number, !chosen.has(t.number)));
      return point;
    }));
}

// One line whatever its length (the whole text on hover): an error in red, an early stop's reason or a note muted.
function errorCell(t) {
  const retries = t.retries ? ` (${t.retries.length} earlier attempt${t.retries.length === 1 ? "" : "s"} given up)` : "";
  const said = t.status === "EarlyStopped" ? "" : t.error || "";
  const title = [t.status === "EarlyStopped" ? t.error : said, t.note, ...(t.retries || [])].filter(Boolean).join("\n");
  return el("td", { class: `clipped ${said ? "error" : "muted"}`, "data-testid": "trial-error", title: title || null },
    said || t.note || "", retries);
}

// --- trials side by side -------------------------------------------------------------------------------------
async function showComparison(id, numbers) {
  view = { kind: "compare", id };
  const trials = await Promise.all(numbers.map((n) => json(`/api/studies/${id}/trials/${n}`)));
  const study = await json(`/api/studies/${id}`);
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.parameters)))];
  const metrics = metricNames(trials, study.objective.metric);
  const curves = el("img", { alt: "learning curves", "data-testid": "compare-plot", title: "click to enlarge",
    onclick: () => enlarge(`/api/studies/${id}/plots/intermediate.svg?trials=${numbers.join(",")}`, "learning curves") });
  const row = (label, value) => el("tr", {}, el("th", {}, label), trials.map((t) => el("td", { class: "num" }, fmt(value(t)))));
  app.replaceChildren(
    back(`#/studies/${id}`, study.name),
    el("h1", {}, `Comparing trials ${numbers.join(", ")} of ${study.name}`),
    el("div", { class: "compare" },
      el("div", { class: "scroll" }, el("table", { "data-testid": "compare-table" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), trials.map((t) => el("th", {}, `trial ${t.number}`)))),
        el("tbody", {},
          el("tr", {}, el("th", {}, "status"), trials.map((t) => el("td", {}, trialStatus(t)))),
          names.map((n) => row(n, (t) => t.parameters[n])),
          metrics.map((m) => row(m, (t) => t.metrics[m]))))),
      el("figure", {}, curves, el("p", { class: "plot-note muted", hidden: true }))));
  await loadImage(curves, `/api/studies/${id}/plots/intermediate.png?trials=${numbers.join(",")}`);
}

// --- one trial -----------------------------------------------------------------------------------------------
async function showTrial(id, number) {
  view = { kind: "trial", id, number };
  const study = await json(`/api/studies/${id}`);
  const curve = el("img", { alt: "learning curve", "data-testid": "trial-curve", title: "click to enlarge",
    onclick: () => enlarge(`/api/studies/${id}/plots/intermediate.svg?trials=${number}`, "learning curve") });
  const details = el("div", { "data-testid": "trial-details" });
  const logs = el("div", { "data-testid": "trial-logs" });
  const notebook = el("p", { hidden: true }, el("a", { href: "#", "data-testid": "notebook", onclick: (e) => {
    e.preventDefault(); download(`/api/studies/${id}/trials/${number}/notebook`, `${study.name}-trial-${number}.ipynb`); } }, "the executed notebook"));
  app.replaceChildren(
    back(`#/studies/${id}`, study.name),
    el("h1", { "data-testid": "trial-title" }, `Trial ${number} of ${study.name}`),
    details, notebook,
    el("h2", {}, "Learning curve"), el("figure", { class: "curve" }, curve, el("p", { class: "plot-note muted", hidden: true })),
    el("h2", {}, "Logs"), logs);

  let shown = null;
  async function render() {
    const answer = await text(`/api/studies/${id}/trials/${number}`);
    if (answer === shown) return;
    shown = answer;
    const t = JSON.parse(answer);
    const pairs = (values) => el("table", { class: "pairs" }, el("tbody", {},
      Object.entries(values).map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", { class: "num" }, fmt(value))))));
    details.replaceChildren(
      el("div", { class: "summary" },
        el("div", {}, el("span", {}, "status"), trialStatus(t)),
        el("div", {}, el("span", {}, "source"), t.source),
        el("div", {}, el("span", {}, "duration"), seconds(t)),
        el("div", {}, el("span", {}, "started"), t.startedAt ? new Date(t.startedAt).toLocaleString() : "–"),
        el("div", {}, el("span", {}, "silo"), t.silo || "–")),
      t.error ? el("p", { class: t.status === "EarlyStopped" ? "muted" : "error", "data-testid": "trial-error" },
        t.status === "EarlyStopped" ? `Stopped early: ${t.error}` : t.error) : "",
      t.note ? el("p", { class: "muted", "data-testid": "trial-note" }, t.note) : "",
      t.retries ? [el("h2", {}, "Earlier attempts given up"), el("ul", { "data-testid": "trial-retries" }, t.retries.map((r) => el("li", {}, r)))] : "",
      el("div", { class: "columns" },
        el("div", {}, el("h2", {}, "Parameters"), pairs(t.parameters)),
        el("div", {}, el("h2", {}, "Metrics"), pairs(Object.fromEntries(metricNames([t], study.objective.metric).map((m) => [m, t.metrics[m]])))),
        el("div", {}, el("h2", {}, "Steps"), el("table", { "data-testid": "trial-steps" },
          el("thead", {}, el("tr", {}, ["Step", "From cache", "Seconds"].map((h) => el("th", {}, h)))),
          el("tbody", {}, t.steps.map((s) => el("tr", {}, el("td", {}, s.name), el("td", {}, s.cached ? "cached" : "ran"), el("td", { class: "num" }, s.seconds))))))));
    if (Object.keys(t.intermediate).length > 0) loadImage(curve, `/api/studies/${id}/plots/intermediate.png?trials=${number}`);
    else { curve.hidden = true; curve.nextElementSibling.textContent = "No learning curve: the trial reported no value with a step."; curve.nextElementSibling.hidden = false; }
    // Every step of the study file, whether or not this trial has reached it: a running step's log grows.
    logs.replaceChildren(...t.studySteps.map((step) => logViewer(id, number, step)));
    return t;
  }

  const trial = await render();
  json(`/api/studies/${id}/trials/${number}/notebook`).then(() => { notebook.hidden = false; }, () => { });
  if (trial.status !== "Running" && trial.status !== "Pending") return;
  // A running trial's page follows it until it ends.
  follow(id, async () => !["Running", "Pending"].includes((await render() ?? JSON.parse(shown)).status));
}

// A step's log: its last lines at first, the whole of it on request, standard output or error.
function logViewer(id, number, step) {
  const pre = el("pre", { class: "log", "data-testid": `log-${step}` });
  const state = { stream: "stdout", whole: false };
  const load = async () => {
    const query = new URLSearchParams({ step, stream: state.stream });
    if (!state.whole) query.set("tail", LOG_TAIL);
    try { pre.textContent = await text(`/api/studies/${id}/trials/${number}/logs?${query}`) || "(empty)"; }
    catch (e) { pre.textContent = e.message; }
  };
  const choose = (stream, whole) => () => { state.stream = stream; state.whole = whole; load(); };
  load();
  return el("section", { class: "step-log" },
    el("h3", {}, step, " ",
      el("button", { onclick: choose("stdout", false) }, `stdout (last ${LOG_TAIL} lines)`),
      el("button", { onclick: choose("stderr", false), "data-testid": `stderr-${step}` }, "stderr"),
      el("button", { onclick: choose(state.stream, true) }, "whole log"),
      el("button", { onclick: () => download(`/api/studies/${id}/trials/${number}/logs?step=${step}&stream=${state.stream}`, `trial-${number}-${step}-${state.stream}.log`) }, "download")),
    pre);
}

// --- routing -------------------------------------------------------------------------------------------------
async function route() {
  clearTimeout(timer);
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  const [root, id, part, argument] = path.split("/").filter(Boolean);
  const query = new URLSearchParams(search);
  try {
    if (root !== "studies" || !/^[0-9a-f]+$/.test(id || "")) { following?.abort(); return await showStudies(); }
    if (part === "trials" && /^\d+$/.test(argument || "")) { following?.abort(); return await showTrial(id, Number(argument)); }
    if (part === "compare" && argument) { following?.abort(); return await showComparison(id, argument.split(",").filter((n) => /^\d+$/.test(n)).map(Number)); }
    // The same study with another table state (a URL edited or pasted): only the table changes.
    if (view?.kind === "study" && view.id === id) return await view.show(query);
    following?.abort();
    await showStudy(id, query);
  } catch (e) {
    app.replaceChildren(el("p", { class: "error" }, e.message), back("#/", "Studies"));
  }
}
window.addEventListener("hashchange", route);
route();
