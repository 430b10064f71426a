// clientmatrix HTML report: renders the page from the JSON in #matrix-data.
// Every string from the data goes into the page through textContent or an attribute set
// with setAttribute/property (never innerHTML), so hostile data stays text.
// View state lives in the URL fragment
// (#group=status&client=requests&verdict=fail&security=1&disagree=1&q=103&card=must&cmp=a,b&cell=ROW|CLIENT),
// so a link points at a view, and the page works from disk (file://) with no network.
"use strict";
(function () {
  function envText(c) {  // a column's environment (issue 8): where its library ran
    const e = c.environment;
    if (!e) return c.env ? `env ${c.env}` : "";
    const dec = Object.entries(e.decoders || {}).map(([k, v]) => v ? `${k} ${v}` : `no ${k}`).join(", ");
    return `env ${e.env}: Python ${e.python_version} (${e.python}), ${e.openssl}` +
      (e.libcurl ? ", libcurl " + Object.entries(e.libcurl).map(([k, v]) => `${v} (${k})`).join(", ") : "") + `; ${dec}; ${Object.keys(e.distributions || {}).length} distributions`;
  }

  const DATA = JSON.parse(document.getElementById("matrix-data").textContent);
  const GLYPH = DATA.glyphs;
  const VERDICTS = DATA.verdicts;
  const FAMILIES = Object.keys(DATA.columns);
  const CLIENTS = Object.create(null);
  for (const c of DATA.clients) CLIENTS[c.id] = c;
  const ROWS = Object.create(null);
  for (const r of DATA.rows) ROWS[r.id] = r;
  const CARD = Object.create(null);  // client -> category -> Set of row ids
  for (const sc of DATA.scorecard) {
    CARD[sc.client] = Object.create(null);
    for (const [k] of DATA.categories) CARD[sc.client][k] = new Set(sc[k]);
  }
  const KEYS = ["group", "client", "verdict", "q", "card", "cmp", "cell"];
  const FLAGS = ["security", "disagree"];
  const $ = sel => document.querySelector(sel);
  // The cells' details (observations, reproducer lines): gzip'd JSON in base64, unpacked once
  // by the browser's DecompressionStream (no network, no library).
  let DETAILS = {cells: {}, pairs: [], lines: []};
  const UNPACKED = (async () => {
    const text = document.getElementById("matrix-details").textContent.trim();
    const bytes = Uint8Array.from(atob(text), ch => ch.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    DETAILS = JSON.parse(await new Response(stream).text());
    return DETAILS;
  })();
  const verdictOk = v => VERDICTS.includes(v) ? v : "error";

  // el("td", {className: "x", title: "t"}, child, "text", ...): text is always a text node.
  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "attrs") for (const [a, b] of Object.entries(v)) node.setAttribute(a, String(b));
      else node[k] = v;
    }
    add(node, kids);
    return node;
  }
  function add(node, kids) {
    for (const kid of kids) {
      if (kid === undefined || kid === null || kid === false) continue;
      if (Array.isArray(kid)) add(node, kid);
      else node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
  }
  // A link to a document (the spec): only http(s) URLs become links.
  function link(text, url) {
    const safe = /^https:\/\//.test(String(url));
    return safe ? el("a", {href: String(url), rel: "noreferrer noopener", target: "_blank"}, text) : el("span", {}, text);
  }
  function specNode(row) {
    const out = el("span", {className: "spec"});
    let rest = String(row.spec || "");
    for (const [text, url] of row.links || []) {
      const at = rest.indexOf(text);
      if (at < 0) continue;
      out.append(rest.slice(0, at), link(text, url));
      rest = rest.slice(at + text.length);
    }
    out.append(rest);
    return out;
  }

  // -- state ------------------------------------------------------------------
  function readState() {
    const p = new URLSearchParams(location.hash.slice(1));
    const st = {};
    for (const k of KEYS) st[k] = p.get(k) || "";
    for (const k of FLAGS) st[k] = p.get(k) === "1";
    st.cmpList = st.cmp ? st.cmp.split(",").filter(c => CLIENTS[c]).slice(0, 4) : [];
    return st;
  }
  function hashOf(st) {
    const p = new URLSearchParams();
    for (const k of KEYS) if (st[k]) p.set(k, st[k]);
    for (const k of FLAGS) if (st[k]) p.set(k, "1");
    return p.toString();
  }
  function writeState(st) {
    const hash = hashOf(st);
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  // -- controls ---------------------------------------------------------------
  function options(select, items, current) {
    select.replaceChildren(...items.map(([v, label]) => el("option", {value: v, selected: v === current}, label)));
  }
  function controls(st) {
    const groups = [...new Set(DATA.rows.map(r => String(r.group)))];
    options($("#f-group"), [["", "all groups"], ...groups.map(g => [g, g])], st.group);
    options($("#f-client"), [["", "all clients"], ...DATA.clients.map(c => [c.id, c.id + " " + c.version])], st.client);
    options($("#f-verdict"), [["", "any verdict"], ...VERDICTS.map(v => [v, GLYPH[v] + " " + v])], st.verdict);
    $("#f-security").checked = st.security;
    $("#f-disagree").checked = st.disagree;
    $("#f-q").value = st.q;
    $("#f-compare").replaceChildren(...DATA.clients.map(c => el("label", {className: "pick"},
      el("input", {type: "checkbox", value: c.id, checked: st.cmpList.includes(c.id), className: "cmp"}), c.id)));
    pickable(st);
  }
  // At most four clients compared: the others are disabled while four are picked.
  function pickable(st) {
    for (const box of document.querySelectorAll("#f-compare input.cmp")) {
      box.checked = st.cmpList.includes(box.value);
      box.disabled = !box.checked && st.cmpList.length >= 4;
    }
  }
  function stateFromControls(prev) {
    const cmpList = [...document.querySelectorAll("#f-compare input.cmp:checked")].map(i => i.value).slice(0, 4);
    return {group: $("#f-group").value, client: $("#f-client").value, verdict: $("#f-verdict").value,
            security: $("#f-security").checked, disagree: $("#f-disagree").checked, q: $("#f-q").value.trim(),
            card: $("#f-client").value === prev.client ? prev.card : "", cmp: cmpList.join(","), cmpList, cell: ""};
  }

  // -- scorecard ----------------------------------------------------------------
  function scorecard(st) {
    const table = el("table", {className: "score"});
    table.append(el("caption", {}, "Scorecard: per client, the rows where it breaks the spec, is unsupported or hangs " +
      "(click a number for its rows)"));
    table.append(el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "client"),
      DATA.categories.map(([k, label, what]) => el("th", {scope: "col", title: what}, label)), el("th", {scope: "col"}, "cells"))));
    const tbody = el("tbody");
    for (const sc of DATA.scorecard) {
      const c = CLIENTS[sc.client] || {library: "", version: ""};
      tbody.append(el("tr", {dataset: {client: sc.client}},
        el("th", {scope: "row"}, sc.client, el("span", {className: "lib"}, c.library + " " + c.version)),
        DATA.categories.map(([k]) => {
          const n = sc[k].length;
          const href = "#" + hashOf({client: sc.client, card: k});
          const current = st.client === sc.client && st.card === k;
          return el("td", {className: "n" + (n ? " some k-" + k : "") + (current ? " current" : "")},
            n ? el("a", {href, dataset: {card: k, client: sc.client}}, String(n)) : "0");
        }),
        el("td", {className: "n"}, String(sc.cells))));
    }
    table.append(tbody);
    $("#scorecard").replaceChildren(table);
  }

  // -- table ------------------------------------------------------------------
  function cellButton(row, cid) {
    const cell = row.cells[cid];
    if (!cell) return el("td", {className: "none", attrs: {"aria-label": "no cell"}});
    const v = verdictOk(cell.v);
    const odd = row.ref.odd.includes(cid);
    const detail = row.ref.detail.includes(cid);
    const exp = cell.e, known = exp ? [exp, ...(exp.also || [])] : [];
    // failed, or passed though none of its expected outcomes: another version's column (requests@2.31.0)
    const changed = cell.o === "failed" || (cell.o === "passed" && exp && !known.some(e => e.verdict === cell.v && e.summary === cell.m));
    const differs = (changed ? "*" : "") + (cell.n ? "~" : "");
    const title = `${cid}: ${v}: ${cell.m}` + (odd ? " (odd one out)" : "") + (detail ? " (behaviour differs in detail)" : "") +
      (changed ? " (differs from expectation)" : "") + (cell.n ? " (intermittent)" : "");
    return el("td", {}, el("button", {type: "button", className: `c v-${v}${odd ? " odd" : ""}${detail ? " detail" : ""}`,
      title, dataset: {s: row.id, c: cid}},
      el("span", {className: "g", attrs: {"aria-hidden": "true"}}, GLYPH[v] + differs),
      el("span", {className: "t"}, v), odd ? el("span", {className: "oddmark"}, "≠") : null));
  }
  function refCell(row) {
    const r = row.ref;
    const td = el("td", {className: "cons"});
    if (r.kind === "spec") {
      td.append(el("span", {className: "verdict v-pass"}, GLYPH.pass + " spec"), " ",
        el("span", {className: "n"}, `${r.count}/${r.of} meet it`));
      if (r.summary) td.append(" ", short(r.summary));
      td.title = "the spec's answer (" + row.level + "): pass" + (r.summary ? "; most passing clients: " + r.summary : "");
      return td;
    }
    if (!r.of) return el("td", {className: "cons"}, "-");
    if (!r.verdict) return el("td", {className: "cons"}, "no majority ", el("span", {className: "n"}, `(${r.of} clients)`));
    td.title = r.summary;
    td.append(el("span", {className: "verdict v-" + verdictOk(r.verdict)}, GLYPH[verdictOk(r.verdict)] + " majority"), " ",
      el("span", {className: "n"}, `${r.count}/${r.of}`), " ", short(r.summary));
    return td;
  }
  const short = s => { s = String(s == null ? "" : s); return s.length > 60 ? s.slice(0, 57) + "…" : s; };

  // The picked columns' cells in a row differ: by verdict, else by behaviour (summary); "" when not.
  function compareDiff(row, cols) {
    const cells = cols.map(c => row.cells[c]).filter(Boolean);
    if (cells.length < 2) return "";
    if (new Set(cells.map(c => c.v)).size > 1) return "verdict";
    if (new Set(cells.map(c => c.m)).size > 1) return "behaviour";
    return "";
  }
  function visibleRow(row, cols, st) {
    if (st.group && row.group !== st.group) return false;
    if (st.security && !row.security) return false;
    if (st.disagree && !row.ref.disagree) return false;
    if (st.q) {
      const q = st.q.toLowerCase();
      if (!String(row.id).toLowerCase().includes(q) && !String(row.title).toLowerCase().includes(q)) return false;
    }
    if (st.verdict && !cols.some(cid => row.cells[cid] && row.cells[cid].v === st.verdict)) return false;
    if (st.card && st.client && !(CARD[st.client] && CARD[st.client][st.card] && CARD[st.client][st.card].has(row.id))) return false;
    if (st.cmpList.length >= 2 && !compareDiff(row, cols)) return false;
    return true;
  }

  function render(st) {
    scorecard(st);
    const comparing = st.cmpList.length >= 2;
    let shown = 0;
    const out = [];
    for (const fam of FAMILIES) {
      let cols = DATA.columns[fam];
      if (comparing) cols = st.cmpList.filter(cid => cols.includes(cid));
      else if (st.client) cols = cols.filter(cid => cid === st.client);
      if (!cols.length || (comparing && cols.length < 2)) continue;
      const rows = DATA.rows.filter(r => r.protocol === fam && visibleRow(r, cols, st));
      if (!rows.length) continue;
      shown += rows.length;
      const head = el("tr", {}, el("th", {className: "row", scope: "col"}, "scenario"),
        cols.map(cid => {
          const c = CLIENTS[cid];
          const own = c.env && c.env !== "default";  // a column in its own environment: its id names it
          return el("th", {scope: "col", title: envText(c), dataset: {client: cid}}, own ? c.id : (c.base || c.id),
            el("span", {className: "lib"}, `${c.library} ${c.version}` + (c.python ? ` · py${c.python}` : "")));
        }),
        comparing ? el("th", {scope: "col"}, "differs by") : null,
        el("th", {scope: "col"}, "reference", el("span", {className: "lib"}, "the spec, then the majority")));
      const tbody = el("tbody");
      let group = null;
      for (const row of rows) {
        if (row.group !== group) {
          group = row.group;
          tbody.append(el("tr", {className: "group"}, el("th", {colSpan: cols.length + (comparing ? 3 : 2), scope: "rowgroup"}, group)));
        }
        const label = el("td", {className: "row"},
          row.security ? el("span", {className: "sec", title: "security row"}, "§") : null,
          el("span", {className: "id"}, row.id),
          row.security ? el("span", {className: "badge"}, "security") : null,
          el("span", {className: "title"}, row.title, " · ", specNode(row), " · ", row.level));
        tbody.append(el("tr", {className: "r" + (row.security ? " security" : ""), dataset: {row: row.id}},
          label, cols.map(cid => cellButton(row, cid)),
          comparing ? el("td", {className: "by"}, compareDiff(row, cols)) : null, refCell(row)));
      }
      out.push(el("h2", {}, (comparing ? "compare: " + cols.join(" · ") + " (" : "") + fam.toUpperCase() + " clients" + (comparing ? ")" : "")),
        el("div", {className: "wrap"}, el("table", {className: "matrix", dataset: {family: fam}}, el("thead", {}, head), tbody)));
    }
    const pickedFamilies = FAMILIES.filter(f => st.cmpList.filter(c => DATA.columns[f].includes(c)).length >= 2);
    const empty = !comparing ? "No rows match these filters." : pickedFamilies.length
      ? "These clients behave alike on every row that matches the filters."
      : "Pick at least two clients of the same protocol (HTTP or WebSocket) to compare them.";
    $("#tables").replaceChildren(...(out.length ? out : [el("p", {className: "empty"}, empty)]));
    $("#shown").textContent = `showing ${shown} of ${DATA.rows.length} rows` +
      (comparing ? ` where ${st.cmpList.join(", ")} differ` : "") + (st.card ? ` (${st.client}: ${st.card})` : "");
  }

  // -- detail -----------------------------------------------------------------
  function kv(pairs) {
    const dl = el("dl", {className: "kv"});
    for (const [k, v] of pairs) {
      if (v === undefined || v === null || v === "") continue;
      dl.append(el("dt", {}, k), el("dd", {}, v));
    }
    return dl;
  }
  function headers(list) {
    if (!list || !list.length) return el("em", {}, "none");
    return el("table", {className: "h"}, list.map(i => {
      const [k, v] = DETAILS.pairs[i] || ["?", "?"];
      return el("tr", {}, el("td", {}, k + ":"), el("td", {}, v));
    }));
  }
  function frames(list) {
    if (!list || !list.length) return "";
    return el("table", {className: "h frames"}, list.map(f => el("tr", {},
      el("td", {}, f.opcode), el("td", {}, (f.fin ? "FIN" : "no FIN") + (f.rsv ? ` RSV ${f.rsv}` : "") + (f.masked ? " masked" : " unmasked")),
      el("td", {}, `${f.len} bytes`), el("td", {}, f.close_code != null ? `code ${f.close_code} ${f.close_reason || ""}` : (f.excerpt || "")))));
  }
  function sentBlock(s, i) {
    return [el("h5", {}, `request ${i + 1}: ${s.method || ""} ${s.target || ""} ${s.version || ""}`), kv([
      ["server", s.server], ["framing", s.framing], ["body", s.body_len == null ? "" : `${s.body_len} bytes`],
      ["body excerpt", s.body_excerpt ? el("pre", {}, s.body_excerpt) : ""],
      ["problem", s.problem], ["headers", headers(s.headers)],
      ["trailers", s.trailers && s.trailers.length ? headers(s.trailers) : ""],
      ["frames", frames(s.frames)],
      ["TLS", s.tls ? el("pre", {}, JSON.stringify(s.tls, null, 1)) : ""],
      ["HTTP/2", s.h2 ? h2Frames(s.h2) : ""]])];
  }
  function h2Frames(h) {
    // The connection's frames as the h2 server received them (servers/h2.py), one per line.
    const extra = f => Object.keys(f).filter(k => !["type", "flags", "stream", "length"].includes(k))
      .map(k => `${k}=${typeof f[k] === "object" ? JSON.stringify(f[k]) : f[k]}`).join(" ");
    const lines = (h.frames || []).map(f => `${f.type} stream ${f.stream} len ${f.length}` +
      (f.flags && f.flags.length ? ` [${f.flags.join(",")}]` : "") + (extra(f) ? " " + extra(f) : ""));
    if (h.dropped) lines.push(`… ${h.dropped} more`);
    return [el("p", {}, `stream ${h.stream}, ended: ${h.ended}, preface ${h.preface}` +
      (h.problem ? `, server saw: ${h.problem}` : "")), el("pre", {}, lines.join("\n"))];
  }
  function stepNode(step) {
    if ("send" in step) return el("pre", {className: "bytes"}, step.send);
    if ("frame" in step) return frames([step.frame]);
    const [k, v] = Object.entries(step)[0] || ["?", ""];
    return el("div", {className: "step"}, `${k}: ${v}`);
  }
  function serverBlock(row) {
    const box = el("div");
    for (const answer of row.response || []) {
      box.append(el("h5", {}, answer.when === "every request" ? "to every request" : `to ${answer.when}`));
      for (const step of answer.steps || []) box.append(stepNode(step));
    }
    if (!box.childNodes.length) box.append(el("em", {}, "not recorded in this report"));
    return box;
  }
  const BREAKS = /[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/g;
  const comment = s => String(s == null ? "" : s).replace(BREAKS, " ");
  // The same as matrix.reproduce.pytest_command / serve_command / head (shlex.quote's rule).
  const quote = s => (s === "" ? "''" : /[^\w@%+=:,./-]/.test(s) ? "'" + s.replace(/'/g, "'\"'\"'") + "'" : s);
  function pytestCommand(row, client) {
    const module = row.module || `suites/test_${String(row.id).split(".")[0]}.py`;
    return "pytest " + quote(`${module}::test_scenario[${row.id}-${client}]`);
  }
  const serveCommand = row => "python -m matrix serve " + quote(String(row.id));
  function snippet(row, client, detail) {
    const head = [`# clientmatrix reproducer: ${comment(row.id)} with ${comment(client)}`, `# ${comment(row.title)}`,
      `# Start the scripted server first: ${comment(serveCommand(row))}`,
      `# (or replay the cell: ${comment(pytestCommand(row, client))})`];
    return head.concat(((detail || {}).r || []).map(i => DETAILS.lines[i])).join("\n") + "\n";
  }
  const detailOf = (sid, cid) => (DETAILS.cells[sid] || {})[cid] || {};
  // For the self-tests: a cell's reproducer as the page shows it.
  window.clientmatrixSnippet = async (sid, cid) => {
    await UNPACKED;
    return snippet(ROWS[sid], (CLIENTS[cid] && CLIENTS[cid].base) || cid, detailOf(sid, cid));
  };

  async function openDetail(sid, cid) {
    const row = ROWS[sid], cell = row && row.cells[cid];
    if (!cell) return;
    try { await UNPACKED; } catch (exc) {
      DETAILS.error = "this browser could not unpack the cell details (" + exc + "); python -m matrix show ROW CLIENT prints them";
    }
    const detail = detailOf(sid, cid);
    const c = CLIENTS[cid] || {}, x = detail.x || {}, got = x.got, err = x.error;
    const base = c.base || cid;
    const v = verdictOk(cell.v);
    const odd = row.ref.odd.includes(cid);
    const ref = row.ref.kind === "spec" ? "the spec (" + row.level + "): pass" + (row.ref.summary ? "; most passing clients: " + row.ref.summary : "")
      : (row.ref.verdict ? `most clients: ${row.ref.verdict}: ${row.ref.summary}` : "no majority");
    const inner = el("div");
    if (DETAILS.error) inner.append(el("p", {className: "problem"}, DETAILS.error));
    inner.append(el("button", {type: "button", className: "close", id: "detail-close"}, "close"),
      el("h3", {}, `${row.id} · ${cid}`), el("p", {}, row.title),
      kv([["spec", el("span", {}, specNode(row), `, ${row.level}${row.security ? ", security row" : ""}`)],
        ["client", `${c.library} ${c.version} (${c.mode || ""})` + (c.python ? ` on Python ${c.python}` : "")],
        ["environment", envText(c) || "not recorded"],
        ["verdict", el("span", {}, el("span", {className: "verdict v-" + v}, GLYPH[v] + " " + v), odd ? " ≠ odd one out" : "")],
        ["reference", ref],
        ["summary", cell.m],
        ["intermittent", Array.isArray(cell.n) ? el("span", {}, cell.n.map(n =>
          el("div", {}, `${n.verdict} x${n.count}: ${n.summary}`))) : ""],
        ["expected", cell.e === undefined ? "the same" : cell.e ? `${cell.e.verdict}: ${cell.e.summary}` : el("em", {}, "no expectation recorded")],
        ["pytest", (cell.o || "passed") + (cell.o === "failed" ? " (differs from the expectation)" : "")],
        ["options", x.options && Object.keys(x.options).length ? el("code", {}, JSON.stringify(x.options)) : "library defaults"]]));
    const sent = x.sent || [];
    const sides = el("div", {className: "sides"},
      el("section", {}, el("h4", {}, `client sent (${sent.length} request${sent.length === 1 ? "" : "s"})`),
        sent.length ? sent.map(sentBlock) : el("p", {}, el("em", {}, "nothing reached the server"))),
      el("section", {}, el("h4", {}, "server sent (the row's script)"), serverBlock(row)));
    inner.append(sides, el("h4", {}, "got"));
    if (got) {
      inner.append(kv([["status", `${got.status == null ? "" : got.status} ${got.reason || ""}`], ["url", got.url],
        ["history", got.history && got.history.length ? got.history.join(" → ") : ""],
        ["body", got.body_len == null ? "" : `${got.body_len} bytes`],
        ["body excerpt", got.body_text ? el("pre", {}, got.body_text) : ""],
        ["text", got.text != null ? el("pre", {}, got.text) : ""],
        ["headers", headers(got.headers)],
        ["extra", got.extra ? el("pre", {}, JSON.stringify(got.extra, null, 1)) : ""]]));
    } else if (!err) inner.append(el("p", {}, el("em", {}, "no response")));
    if (err) inner.append(el("h4", {}, "raised"), kv([["error kind", err.kind], ["exception", el("code", {}, err.type)],
      ["message", err.message]]));
    inner.append(el("h4", {}, "run just this cell"), el("pre", {className: "cmd"}, pytestCommand(row, base)),
      el("h4", {}, "reproducer"), el("p", {}, "Start the row's scripted server with ", el("code", {}, serveCommand(row)),
        " (it prints its URL and, for TLS rows, the folder with the trust files to run this from), then run:"),
      el("pre", {className: "repro"}, snippet(row, base, detail)));
    const dlg = $("#detail");
    dlg.querySelector(".inner").replaceChildren(inner);
    $("#detail-close").addEventListener("click", () => dlg.close());
    if (!dlg.open) dlg.showModal();
  }

  let state = readState();
  controls(state);
  render(state);
  if (state.cell) { const [s, c] = state.cell.split("|"); openDetail(s, c); }
  $("form.filters").addEventListener("input", () => {
    state = stateFromControls(state); pickable(state); writeState(state); render(state);
  });
  $("form.filters").addEventListener("submit", ev => ev.preventDefault());
  $("#f-reset").addEventListener("click", () => { state = readStateFrom(""); controls(state); writeState(state); render(state); });
  function readStateFrom(hash) {
    const st = {cmpList: []};
    for (const k of KEYS) st[k] = "";
    for (const k of FLAGS) st[k] = false;
    return hash ? readState() : st;
  }
  $("#tables").addEventListener("click", ev => {
    const b = ev.target.closest("button.c");
    if (!b) return;
    state.cell = b.dataset.s + "|" + b.dataset.c;
    writeState(state);
    openDetail(b.dataset.s, b.dataset.c);
  });
  $("#detail").addEventListener("close", () => { state.cell = ""; writeState(state); });
  window.addEventListener("hashchange", () => { state = readState(); controls(state); render(state); });
})();
