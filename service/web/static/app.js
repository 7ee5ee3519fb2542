// trustlens reference journal: a page on the public /v1 API, nothing else.
// No build step and no libraries: each view is a function that renders into <main>.
// The API key lives in sessionStorage only; every call sends it as a bearer token.
"use strict";

const KEY = "trustlens.key";
const main = () => document.getElementById("main");

// ------------------------------------------------------------------ small helpers

/** Create an element: h("p", {class: "x"}, "text", child, ...). Text is never parsed as HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let fieldCount = 0;
/** A labelled control: returns [wrapper, control]. */
function field(label, tag, attrs, hint) {
  const id = "f" + ++fieldCount;
  const hintId = hint ? id + "-hint" : null;
  const control = h(tag, { id, name: id, "aria-describedby": hintId, ...attrs });
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null);
  return [wrap, control];
}

const human = (label) => String(label).replace(/_/g, " ");
const today = () => new Date().toISOString().slice(0, 10);

function say(text) {
  const s = document.getElementById("status");
  s.textContent = "";
  setTimeout(() => { s.textContent = text; }, 30);
}

function errorBox(err) {
  return h("div", { class: "error", role: "alert" },
    h("p", {}, err.title ? `${err.title}: ` : "", err.message || String(err)));
}

// ------------------------------------------------------------------ the API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title;
  }
}

function key() { return sessionStorage.getItem(KEY); }

async function api(method, path, body, k) {
  const headers = { Authorization: `Bearer ${k || key()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401 && !k) signOut("Your key no longer works. Sign in again.");
    throw new ApiError(res.status, data);
  }
  return data;
}

/** POST /v1/ask/stream: calls onEvent(event, data) for each server-sent event. */
async function askStream(question, onEvent) {
  const res = await fetch("/v1/ask/stream", {
    method: "POST",
    headers: { Authorization: `Bearer ${key()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ question }),
  });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(event, JSON.parse(data.join("\n")));
    }
    if (done) break;
  }
}

// ------------------------------------------------------------------ shared pieces

/** A link to an entry that opens it with the quoted span highlighted. */
function entryHref(entryId, quote) {
  const q = quote ? `?q=${encodeURIComponent(quote)}` : "";
  return `#entry/${encodeURIComponent(entryId)}${q}`;
}

/** A citation card: the date, and the verbatim quote in a blockquote linking to the entry. */
function citation(c) {
  return h("figure", { class: "cite" },
    h("figcaption", {}, h("a", { href: entryHref(c.entry_id, c.quote) },
      h("time", { datetime: c.date }, c.date), c.era ? ` · ${c.era}` : "",
      h("span", { class: "sr" }, " (open the entry)"))),
    h("blockquote", { cite: entryHref(c.entry_id, c.quote) }, c.quote));
}

/** Safety as the API gives it: crisis as a calm full card, concern as a quiet footer. */
function safetyNotice(safety) {
  if (!safety) return null;
  const resources = h("ul", { class: "resources" }, safety.resources.map((r) =>
    h("li", {}, h("strong", {}, r.name), ": ", r.contact,
      r.url ? [" (", h("span", { class: "url" }, r.url), ")"] : "")));
  if (safety.level === "crisis") {
    return h("section", { class: "crisis", role: "alert", tabindex: "-1", "aria-labelledby": "crisis-h" },
      h("h2", { id: "crisis-h" }, "You don't have to hold this alone"),
      h("p", {}, safety.message), h("h3", {}, "People you can reach now"), resources);
  }
  return h("aside", { class: "concern", "aria-label": "Support" },
    h("p", {}, safety.message), resources);
}

function view(title, intro, ...children) {
  const m = main();
  m.replaceChildren(h("h1", { id: "view-title", tabindex: "-1" }, title),
    intro ? h("p", { class: "intro" }, intro) : null, ...children);
  return m;
}

function busy(button, on) {
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}

// ------------------------------------------------------------------ sign in / out

function signInView(message) {
  const [wrap, input] = field("API key", "input",
    { type: "password", autocomplete: "off", required: true, spellcheck: "false" },
    "The key you were given (it starts with tl_). It is kept in this tab only.");
  const out = h("div", {});
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card narrow", onsubmit: async (ev) => {
    ev.preventDefault();
    busy(button, true);
    try {
      const me = await api("GET", "/v1/me", undefined, input.value.trim());
      sessionStorage.setItem(KEY, input.value.trim());
      signedIn(me);
      location.hash = "#write";
      route();
    } catch (err) {
      out.replaceChildren(errorBox(err.status === 401
        ? new Error("That key was not accepted. Check it and try again.") : err));
    } finally { busy(button, false); }
  } }, wrap, button, out);
  view("Sign in", "trustlens answers only from your own journal.",
    message ? h("p", { class: "notice", role: "status" }, message) : null, form);
  input.focus();
}

function signedIn(me) {
  document.getElementById("nav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("who-name").textContent = `Signed in as ${me.name}`;
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  history.replaceState(null, "", location.pathname);
  signInView(message || "You are signed out.");
}

// ------------------------------------------------------------------ Write

function writeView() {
  const [dateWrap, date] = field("Date", "input", { type: "date", required: true, value: today() });
  const [textWrap, text] = field("Entry", "textarea", { rows: 8, required: true });
  const [tagsWrap, tags] = field("Tags", "input", { type: "text" }, "Optional, separated by commas.");
  const out = h("div", { class: "result", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Save entry");
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    busy(button, true);
    out.replaceChildren(h("p", {}, "Saving…"));
    try {
      const body = { date: date.value, text: text.value };
      const t = tags.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (t.length) body.tags = t;
      const e = await api("POST", "/v1/entries", body);
      out.replaceChildren(...saved(e));
      (out.querySelector(".crisis") || out.querySelector(".ok")).focus();
      text.value = "";
      say("Entry saved.");
    } catch (err) { out.replaceChildren(errorBox(err)); } finally { busy(button, false); }
  } }, dateWrap, textWrap, tagsWrap, button);
  view("Write", "Write what happened and how it felt. Saving gives you questions from your own past entries.",
    form, out);
}

function saved(e) {
  const parts = [h("p", { class: "ok", tabindex: "-1" }, `Saved the entry of ${e.date}`,
    e.indexed ? " (indexed)." : " (not indexed yet).", " ",
    h("a", { href: entryHref(e.id) }, "Open it"))];
  if (e.safety && e.safety.level === "crisis") parts.unshift(safetyNotice(e.safety));
  if (e.followups && e.followups.length) {
    parts.push(h("section", { class: "followups", "aria-labelledby": "fu-h" },
      h("h2", { id: "fu-h" }, "Questions to sit with"),
      h("ol", {}, e.followups.map((f) => h("li", { class: "followup" },
        h("p", { class: "question" }, f.question), f.citations.map(citation))))));
  }
  if (e.safety && e.safety.level !== "crisis") parts.push(safetyNotice(e.safety));
  return parts;
}

// ------------------------------------------------------------------ Journal

let labelMap = null; // entry id -> labels, from /v1/patterns

async function journalView() {
  const [qWrap, q] = field("Search", "input", { type: "search" }, "Words or a feeling; finds the closest passages.");
  const [sinceWrap, since] = field("From", "input", { type: "date" });
  const [untilWrap, until] = field("To", "input", { type: "date" });
  const [tagWrap, tag] = field("Tag", "input", { type: "text" });
  const [patWrap, pattern] = field("Pattern", "select", {});
  pattern.append(h("option", { value: "" }, "Any pattern"));
  const list = h("div", { id: "entries", "aria-live": "polite" });
  const apply = h("button", { type: "submit" }, "Show entries");
  const form = h("form", { class: "card filters", role: "search", onsubmit: (ev) => {
    ev.preventDefault();
    if (q.value.trim()) runSearch(list, q.value.trim(), since.value, until.value);
    else loadEntries(list, { since: since.value, until: until.value, tag: tag.value.trim(), pattern: pattern.value });
  } }, qWrap, h("fieldset", { class: "row" }, h("legend", {}, "Filters"),
    sinceWrap, untilWrap, tagWrap, patWrap), apply);
  view("Journal", "Your entries by date. Each shows its labels; confirm or reject them, and the answers follow.",
    form, list);
  try {
    const report = await api("GET", "/v1/patterns");
    labelMap = report.entries || {};
    for (const name of Object.keys(report.patterns || {}).sort()) {
      pattern.append(h("option", { value: name }, human(name)));
    }
  } catch (err) { list.before(errorBox(err)); }
  loadEntries(list, {});
}

async function loadEntries(list, filters, cursor) {
  const params = new URLSearchParams({ limit: "20" });
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  if (cursor) params.set("cursor", cursor);
  if (!cursor) list.replaceChildren(h("p", {}, "Loading…"));
  try {
    const page = await api("GET", `/v1/entries?${params}`);
    if (!cursor) list.replaceChildren();
    list.querySelector(".more")?.remove();
    if (!page.items.length && !cursor) list.append(h("p", {}, "No entries match."));
    for (const e of page.items) list.append(entryCard(e));
    if (page.next_cursor) {
      list.append(h("button", { type: "button", class: "more quiet",
        onclick: () => loadEntries(list, filters, page.next_cursor) }, "More entries"));
    }
    say(`${list.querySelectorAll("article").length} entries shown.`);
  } catch (err) { list.replaceChildren(errorBox(err)); }
}

function entryCard(e) {
  const labels = (labelMap && labelMap[e.id]) || [];
  const panel = h("div", { class: "labels-panel" });
  const toggle = h("button", { type: "button", class: "quiet", "aria-expanded": "false",
    onclick: async () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      if (open) { panel.replaceChildren(); return; }
      await renderLabels(panel, e.id);
    } }, "Review labels");
  return h("article", { class: "entry card", "aria-labelledby": `e-${e.id}` },
    h("h2", { id: `e-${e.id}`, class: "entry-date" },
      h("a", { href: entryHref(e.id) }, h("time", { datetime: e.date }, e.date))),
    h("p", { class: "entry-text" }, e.text.length > 420 ? e.text.slice(0, 400) + "…" : e.text),
    h("p", { class: "meta" },
      h("span", { class: e.indexed ? "badge ok" : "badge warn" }, e.indexed ? "indexed" : "not indexed yet"),
      e.tags.map((t) => h("span", { class: "badge" }, `#${t}`)),
      labels.map((l) => h("span", { class: "badge label" }, human(l)))),
    toggle, panel);
}

async function renderLabels(panel, entryId) {
  panel.replaceChildren(h("p", {}, "Loading labels…"));
  try {
    const data = await api("GET", `/v1/entries/${encodeURIComponent(entryId)}/labels`);
    const verdicts = Object.fromEntries(data.corrections.map((c) => [c.label, c.verdict]));
    const shown = data.labels.filter((l) => l.group !== "emotions" || l.source !== "model" || verdicts[l.label]);
    const rows = shown.map((l) => labelRow(panel, entryId, l.label, verdicts[l.label], l.quote));
    for (const [label, verdict] of Object.entries(verdicts)) {
      if (verdict === "reject") rows.push(labelRow(panel, entryId, label, verdict, null));
    }
    panel.replaceChildren(h("p", { class: "meta" }, `Era: ${data.era || "unknown"}`),
      rows.length ? h("ul", { class: "label-list" }, rows) : h("p", {}, "No labels on this entry."));
  } catch (err) { panel.replaceChildren(errorBox(err)); }
}

function labelRow(panel, entryId, label, verdict, quote) {
  const path = `/v1/entries/${encodeURIComponent(entryId)}/labels/${encodeURIComponent(label)}`;
  const act = async (v) => {
    try {
      if (v) await api("PUT", path, { verdict: v });
      else await api("DELETE", path);
      await renderLabels(panel, entryId);
      say(v ? `${human(label)} ${v}ed.` : `Your verdict on ${human(label)} is cleared.`);
      panel.querySelector(`[data-label="${label}"] button`)?.focus();
    } catch (err) { panel.append(errorBox(err)); }
  };
  const state = verdict === "confirm" ? "confirmed by you" : verdict === "reject" ? "rejected by you" : "suggested";
  return h("li", { class: `label-row ${verdict || ""}`, "data-label": label },
    h("span", { class: "label-name" }, human(label)),
    h("span", { class: "label-state" }, ` (${state})`),
    quote ? h("q", {}, quote) : null,
    h("span", { class: "actions" },
      verdict !== "confirm" ? h("button", { type: "button", class: "quiet",
        "aria-label": `Confirm ${human(label)}`, onclick: () => act("confirm") }, "Confirm") : null,
      verdict !== "reject" ? h("button", { type: "button", class: "quiet",
        "aria-label": `Reject ${human(label)}`, onclick: () => act("reject") }, "Reject") : null,
      verdict ? h("button", { type: "button", class: "quiet",
        "aria-label": `Undo your verdict on ${human(label)}`, onclick: () => act(null) }, "Undo") : null));
}

async function runSearch(list, query, since, until) {
  list.replaceChildren(h("p", {}, "Searching…"));
  try {
    const body = { query, k: 10 };
    if (since) body.since = since;
    if (until) body.until = until;
    const res = await api("POST", "/v1/search", body);
    list.replaceChildren(h("h2", {}, `Passages closest to “${query}”`),
      res.hits.length ? h("ol", { class: "hits" }, res.hits.map((hit) => h("li", {}, citation({
        entry_id: hit.entry_id, date: hit.date, quote: hit.text })))) : h("p", {}, "Nothing close."));
    say(`${res.hits.length} passages found.`);
  } catch (err) { list.replaceChildren(errorBox(err)); }
}

async function entryView(entryId, quote) {
  view("Entry", null, h("p", {}, "Loading…"));
  try {
    const e = await api("GET", `/v1/entries/${encodeURIComponent(entryId)}`);
    const text = h("div", { class: "entry-full" });
    const at = quote ? e.text.indexOf(quote) : -1;
    if (at >= 0) {
      text.append(e.text.slice(0, at), h("mark", { id: "quoted" }, e.text.slice(at, at + quote.length)),
        e.text.slice(at + quote.length));
    } else text.append(e.text);
    view(`Entry of ${e.date}`, null, h("article", { class: "card" }, text,
      h("p", { class: "meta" }, h("span", { class: e.indexed ? "badge ok" : "badge warn" },
        e.indexed ? "indexed" : "not indexed yet"), e.tags.map((t) => h("span", { class: "badge" }, `#${t}`)))),
      h("p", {}, h("a", { href: "#journal" }, "Back to the journal")));
    document.getElementById("quoted")?.scrollIntoView({ block: "center" });
  } catch (err) { main().append(errorBox(err)); }
}

// ------------------------------------------------------------------ Ask

const STEP_TEXT = {
  plan: (d) => `Planned: a ${d.plan.kind} question` +
    (d.plan.people.length ? ` about ${d.plan.people.join(", ")}` : "") +
    (d.plan.since || d.plan.until ? `, ${d.plan.since || "…"} to ${d.plan.until || "…"}` : "") + ".",
  retrieve: (d) => `Retrieved ${d.chunks} passages from your journal.`,
  draft: (d) => `Drafted ${d.claims} claims.`,
  check: () => "Checked every quote against your entries.",
};

function askView() {
  const [qWrap, q] = field("Question", "input", { type: "text", required: true, autocomplete: "off" },
    "For example: what do I usually do when I feel let down? Press Enter to ask.");
  const steps = h("ol", { class: "steps", "aria-label": "Progress", "aria-live": "polite" });
  const out = h("div", { class: "answer" });
  const button = h("button", { type: "submit" }, "Ask");
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    steps.replaceChildren();
    out.replaceChildren();
    busy(button, true);
    try {
      await askStream(q.value, (event, data) => {
        if (event === "step") {
          steps.append(h("li", { class: "step", "data-step": data.step },
            (STEP_TEXT[data.step] || (() => data.step))(data)));
        } else if (event === "answer") out.replaceChildren(...answer(data));
        else if (event === "error") out.replaceChildren(errorBox(new ApiError(data.status, data)));
      });
      say("Answer ready.");
    } catch (err) { out.replaceChildren(errorBox(err)); } finally { busy(button, false); }
  } }, qWrap, button);
  view("Ask", "Ask about your own writing. Every answer quotes your entries, or says it can't.",
    form, steps, out);
}

function answer(a) {
  if (a.safety && a.safety.level === "crisis") return [safetyNotice(a.safety)];
  const summary = a.answer.split(/\n\n|\n- /)[0];
  const parts = [h("h2", {}, a.abstained ? "Not enough in your journal" : "What your journal says"),
    h("p", { class: "summary" }, summary)];
  if (a.behaviors && a.behaviors.length) {
    parts.push(h("section", { "aria-labelledby": "beh-h" }, h("h3", { id: "beh-h" }, "What you did, counted"),
      h("ul", { class: "behaviors" }, a.behaviors.map((b) => h("li", {},
        h("details", {}, h("summary", {}, h("strong", {}, human(b.pattern)),
          `: ${b.count} of ${b.of} episodes`), b.citations.map(citation)))))));
  }
  if (a.citations.length) {
    parts.push(h("section", { "aria-labelledby": "cit-h" }, h("h3", { id: "cit-h" }, "From your entries"),
      h("div", { class: "citations" }, a.citations.map(citation))));
  }
  if (a.safety) parts.push(safetyNotice(a.safety));
  return parts;
}

// ------------------------------------------------------------------ Patterns and progress

async function patternsView() {
  const chart = h("div", { class: "chart card" }, h("p", {}, "Loading…"));
  const pats = h("div", { class: "patterns" });
  view("Patterns and progress", "What you tend to do when trust feels threatened, and how it changes month by month.",
    h("h2", {}, "Month by month"), chart, h("h2", {}, "Your patterns"), pats);
  try {
    const [report, progress] = await Promise.all([api("GET", "/v1/patterns"), api("GET", "/v1/progress")]);
    const entries = Object.entries(report.patterns).sort((a, b) => b[1].count - a[1].count);
    pats.replaceChildren(...(entries.length ? entries.map(([name, p]) => h("section", { class: "card pattern" },
      h("h3", {}, human(name), h("span", { class: "count" }, ` ${p.count} ${p.count === 1 ? "entry" : "entries"}`)),
      p.examples.map(citation))) : [h("p", {}, "No patterns yet.")]));
    chart.replaceChildren(...progressChart(progress));
  } catch (err) { chart.replaceChildren(errorBox(err)); }
}

/** An SVG chart of defensive patterns and repair signals per entry, per month, with the table behind it. */
function progressChart(p) {
  const months = p.months;
  if (!months.length) return [h("p", {}, "Write a few entries to see your progress.")];
  const NS = "http://www.w3.org/2000/svg";
  const s = (tag, attrs, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const W = 640, H = 260, L = 36, R = 10, T = 12, B = 40;
  const max = Math.max(1, ...months.map((m) => Math.max(m.defensive_per_entry, m.repair_per_entry)));
  const step = (W - L - R) / months.length;
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart-svg",
    "aria-labelledby": "chart-title" });
  svg.append(s("title", { id: "chart-title" },
    "Defensive patterns and repair signals per entry, by month. The table below has the figures."));
  for (const v of [0, max / 2, max]) {
    svg.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }),
      s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, v.toFixed(1)));
  }
  const bw = Math.max(2, step / 2 - 2);
  months.forEach((m, i) => {
    const x = L + i * step + 1;
    svg.append(s("rect", { x, y: y(m.defensive_per_entry), width: bw,
      height: y(0) - y(m.defensive_per_entry), class: "bar defensive" }, undefined));
    svg.append(s("rect", { x: x + bw + 1, y: y(m.repair_per_entry), width: bw,
      height: y(0) - y(m.repair_per_entry), class: "bar repair" }));
    const every = Math.ceil(months.length / 8);
    if (i % every === 0) svg.append(s("text", { x: x + bw, y: H - B + 16, "text-anchor": "middle", class: "axis" }, m.month));
  });
  const legend = h("p", { class: "legend" }, h("span", { class: "swatch defensive" }), " defensive patterns per entry ",
    h("span", { class: "swatch repair" }), " repair signals per entry");
  const table = h("details", {}, h("summary", {}, "The figures"), h("div", { class: "table-wrap" }, h("table", {},
    h("caption", {}, "Per month"),
    h("thead", {}, h("tr", {}, ["Month", "Entries", "Defensive per entry", "Repair per entry", "Experiments recorded"]
      .map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, months.map((m) => h("tr", {}, h("th", { scope: "row" }, m.month), h("td", {}, m.entries),
      h("td", {}, m.defensive_per_entry.toFixed(2)), h("td", {}, m.repair_per_entry.toFixed(2)),
      h("td", {}, m.experiments_recorded)))))));
  return [h("p", { class: "trend" }, p.trend.summary), svg, legend, table];
}

// ------------------------------------------------------------------ Reflect

function reflectView() {
  const [wrap, situation] = field("Situation", "textarea", { rows: 4, required: true },
    "What is happening now? trustlens finds what it echoes in your past.");
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Reflect");
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    busy(button, true);
    try {
      const r = await api("POST", "/v1/reflect", { situation: situation.value });
      out.replaceChildren(...reflection(r));
    } catch (err) { out.replaceChildren(errorBox(err)); } finally { busy(button, false); }
  } }, wrap, button);
  view("Reflect", "Tell the past from the present: what this echoes, what is the same, what is different.", form, out);
}

function reflection(r) {
  if (r.safety && r.safety.level === "crisis") return [safetyNotice(r.safety)];
  const statements = (title, items) => items.length ? h("section", {}, h("h3", {}, title),
    h("ul", {}, items.map((s) => h("li", {}, h("p", {}, s.statement), s.citations.map(citation))))) : null;
  return [
    r.abstained ? h("p", {}, "Your journal doesn't say enough about this yet.") : null,
    r.echoes.length ? h("section", {}, h("h2", {}, "What this echoes"), r.echoes.map(citation)) : null,
    statements("What is the same", r.same), statements("What is different", r.different),
    r.questions.length ? h("section", {}, h("h2", {}, "Questions"),
      h("ol", {}, r.questions.map((q) => h("li", {}, typeof q === "string" ? q : q.question)))) : null,
    safetyNotice(r.safety),
  ];
}

// ------------------------------------------------------------------ Practices

async function practicesView() {
  const out = h("div", { "aria-live": "polite" });
  const list = h("ul", { class: "practice-list" });
  view("Guided practices", "Four practices, asked with your own words where they fit.", list, out);
  try {
    const data = await api("GET", "/v1/practices");
    list.replaceChildren(...data.data.map((p) => h("li", { class: "card" }, h("h2", {}, p.title),
      h("p", {}, p.purpose), h("button", { type: "button", onclick: () => practice(out, p.name) },
        `Start ${p.title}`))));
  } catch (err) { list.replaceChildren(errorBox(err)); }
}

async function practice(out, name) {
  out.replaceChildren(h("p", {}, "Loading…"));
  try {
    const p = await api("GET", `/v1/practices/${encodeURIComponent(name)}`);
    out.replaceChildren(h("section", { class: "card practice", "aria-labelledby": "pr-h" },
      h("h2", { id: "pr-h", tabindex: "-1" }, p.title), h("p", {}, p.purpose),
      h("ol", {}, p.questions.map((q) => h("li", {}, h("p", { class: "question" }, q.question),
        q.citations.map(citation))))));
    out.querySelector("#pr-h").focus();
  } catch (err) { out.replaceChildren(errorBox(err)); }
}

// ------------------------------------------------------------------ Experiments

const OUTCOMES = { as_hoped: "As I hoped", mixed: "Mixed", not_as_hoped: "Not as I hoped" };

async function experimentsView() {
  const [whoWrap, who] = field("With whom", "input", { type: "text", required: true });
  const [riskWrap, risk] = field("The small risk", "input", { type: "text", required: true });
  const [okWrap, success] = field("What counts as success", "input", { type: "text", required: true });
  const [whenWrap, when] = field("Planned for", "input", { type: "date" }, "Optional.");
  const list = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Plan experiment");
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    busy(button, true);
    try {
      const body = { who: who.value, risk: risk.value, success: success.value };
      if (when.value) body.planned_for = when.value;
      await api("POST", "/v1/experiments", body);
      form.reset();
      say("Experiment planned.");
      await loadExperiments(list);
    } catch (err) { list.prepend(errorBox(err)); } finally { busy(button, false); }
  } }, whoWrap, riskWrap, okWrap, whenWrap, button);
  view("Trust experiments", "Plan one small trust risk, decide what success looks like, then record how it went.",
    form, h("h2", {}, "Your experiments"), list);
  await loadExperiments(list);
}

async function loadExperiments(list) {
  try {
    const data = await api("GET", "/v1/experiments");
    list.replaceChildren(...(data.data.length ? data.data.map((x) => experimentCard(list, x))
      : [h("p", {}, "No experiments yet.")]));
  } catch (err) { list.replaceChildren(errorBox(err)); }
}

function experimentCard(list, x) {
  const card = h("article", { class: "card experiment" },
    h("h3", {}, `${x.who}: ${x.risk}`),
    h("p", {}, `Success: ${x.success}`, x.planned_for ? ` · planned for ${x.planned_for}` : ""),
    h("p", { class: "meta" }, h("span", { class: "badge" }, x.status),
      x.outcome ? ` Outcome: ${OUTCOMES[x.outcome] || x.outcome}.` : "", x.note ? ` “${x.note}”` : ""));
  if (x.status === "planned") {
    const [oWrap, outcome] = field("How did it go?", "select", {});
    for (const [v, t] of Object.entries(OUTCOMES)) outcome.append(h("option", { value: v }, t));
    const [nWrap, note] = field("Note", "input", { type: "text" }, "Optional.");
    card.append(h("form", { class: "record", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const body = { outcome: outcome.value };
        if (note.value) body.note = note.value;
        await api("PATCH", `/v1/experiments/${encodeURIComponent(x.id)}`, body);
        say("Outcome recorded.");
        await loadExperiments(list);
      } catch (err) { card.append(errorBox(err)); }
    } }, oWrap, nWrap, h("button", { type: "submit" }, "Record outcome")));
  }
  return card;
}

// ------------------------------------------------------------------ Export and delete

async function accountView() {
  const info = h("p", {}, "Loading…");
  const exportButton = h("button", { type: "button", onclick: async () => {
    busy(exportButton, true);
    try {
      const doc = await api("GET", "/v1/export");
      const blob = new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" });
      const a = h("a", { href: URL.createObjectURL(blob),
        download: `trustlens-export-${doc.user.name}-${today()}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      say(`Export of ${doc.entries.length} entries downloaded.`);
    } catch (err) { info.after(errorBox(err)); } finally { busy(exportButton, false); }
  } }, "Download my export");
  const dialog = h("dialog", { "aria-labelledby": "del-h", class: "confirm" });
  const deleteButton = h("button", { type: "button", class: "danger", onclick: () => {
    dialog.replaceChildren(...confirmDelete(dialog));
    dialog.showModal();
  } }, "Delete everything…");
  view("Export and delete", "Your journal is yours: take it with you, or remove it.",
    h("section", { class: "card" }, h("h2", {}, "Your account"), info),
    h("section", { class: "card" }, h("h2", {}, "Export"),
      h("p", {}, "One JSON file with every entry, label correction and experiment. trustlens can import it again."),
      exportButton),
    h("section", { class: "card" }, h("h2", {}, "Delete"),
      h("p", {}, "Removes everything trustlens holds for you, at once and for good."), deleteButton),
    dialog);
  try {
    const me = await api("GET", "/v1/me");
    info.textContent = `${me.name}: ${me.entries} entries, ${me.active_keys} active API ${me.active_keys === 1 ? "key" : "keys"}.`;
    deleteButton.dataset.entries = me.entries;
    deleteButton.dataset.name = me.name;
  } catch (err) { info.replaceChildren(errorBox(err)); }
}

function confirmDelete(dialog) {
  const n = document.querySelector("[data-entries]")?.dataset.entries ?? "all your";
  const cancel = h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, "Cancel");
  const go = h("button", { type: "button", class: "danger", onclick: async () => {
    busy(go, true);
    try {
      await api("DELETE", "/v1/me");
      dialog.close();
      signOut("Everything is deleted and your key no longer works.");
    } catch (err) { dialog.append(errorBox(err)); busy(go, false); }
  } }, "Delete everything for good");
  setTimeout(() => cancel.focus(), 0);
  return [h("h2", { id: "del-h" }, "Delete everything?"),
    h("p", {}, "This cannot be undone. You will lose:"),
    h("ul", {}, h("li", {}, `your ${n} journal entries and their search index`),
      h("li", {}, "your labels, your corrections of them, and your patterns and progress"),
      h("li", {}, "your trust experiments and their outcomes"),
      h("li", {}, "every API key of yours, including the one you are signed in with")),
    h("p", {}, "Download your export first if you may want any of it back."),
    h("p", { class: "actions" }, cancel, go)];
}

// ------------------------------------------------------------------ routing

const VIEWS = { write: writeView, journal: journalView, ask: askView, patterns: patternsView,
  reflect: reflectView, practices: practicesView, experiments: experimentsView, account: accountView };

function route() {
  if (!key()) { signInView(); return; }
  const hash = decodeURIComponent(location.hash.slice(1));
  const [path, query] = location.hash.slice(1).split("?");
  if (path.startsWith("entry/")) {
    const q = new URLSearchParams(query || "").get("q");
    entryView(decodeURIComponent(path.slice(6)), q);
  } else (VIEWS[hash] || writeView)();
  const current = path.startsWith("entry/") ? "journal" : (VIEWS[hash] ? hash : "write");
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#${current}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.getElementById("view-title")?.focus();
}

async function start() {
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  // The skip link moves focus without touching the hash (the hash is the view).
  document.querySelector(".skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    main().focus();
  });
  window.addEventListener("hashchange", route);
  if (key()) {
    try { signedIn(await api("GET", "/v1/me")); } catch (err) {
      if (err.status !== 401) view("trustlens is not reachable", null, errorBox(err));
      return;
    }
  }
  route();
}

document.addEventListener("DOMContentLoaded", start);
