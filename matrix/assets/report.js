// clientmatrix HTML report: renders the table from the JSON in #matrix-data.
// Filter state lives in the URL fragment (#group=status&client=requests&verdict=fail&disagree=1&q=103&cell=...),
// so a link points at a view, and the page works from disk (file://) with no network.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("matrix-data").textContent);
  const GLYPH = DATA.glyphs;
  const FAMILIES = Object.keys(DATA.columns);
  const CLIENTS = Object.fromEntries(DATA.clients.map(c => [c.id, c]));
  const ROWS = Object.fromEntries(DATA.rows.map(r => [r.id, r]));
  const $ = sel => document.querySelector(sel);
  const esc = s => String(s == null ? "" : s).replace(/[&<>"']/g,
    ch => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));

  function readState() {
    const p = new URLSearchParams(location.hash.slice(1));
    return {group: p.get("group") || "", client: p.get("client") || "", verdict: p.get("verdict") || "",
            disagree: p.get("disagree") === "1", q: p.get("q") || "", cell: p.get("cell") || ""};
  }
  function writeState(st) {
    const p = new URLSearchParams();
    for (const k of ["group", "client", "verdict", "q", "cell"]) if (st[k]) p.set(k, st[k]);
    if (st.disagree) p.set("disagree", "1");
    const hash = p.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function controls(st) {
    const opt = (v, label, cur) => `<option value="${esc(v)}"${v === cur ? " selected" : ""}>${esc(label)}</option>`;
    const groups = [...new Set(DATA.rows.map(r => r.group))];
    $("#f-group").innerHTML = opt("", "all groups", st.group) + groups.map(g => opt(g, g, st.group)).join("");
    $("#f-client").innerHTML = opt("", "all clients", st.client) +
      DATA.clients.map(c => opt(c.id, c.id + " " + c.version, st.client)).join("");
    $("#f-verdict").innerHTML = opt("", "any verdict", st.verdict) +
      DATA.verdicts.map(v => opt(v, GLYPH[v] + " " + v, st.verdict)).join("");
    $("#f-disagree").checked = st.disagree;
    $("#f-q").value = st.q;
  }

  function stateFromControls() {
    return {group: $("#f-group").value, client: $("#f-client").value, verdict: $("#f-verdict").value,
            disagree: $("#f-disagree").checked, q: $("#f-q").value.trim(), cell: ""};
  }

  function cellButton(row, cid) {
    const cell = row.cells[cid];
    if (!cell) return `<td class="none" aria-label="no cell"></td>`;
    const odd = row.cons.odd.includes(cid);
    const differs = (cell.o === "failed" ? "*" : "") + (cell.n ? "~" : "");
    const title = `${cid}: ${cell.v}: ${cell.m}` + (odd ? " (odd one out)" : "") + (cell.o === "failed" ? " (differs from expectation)" : "") +
      (cell.n ? " (intermittent)" : "");
    return `<td><button type="button" class="c v-${cell.v}${odd ? " odd" : ""}" data-s="${esc(row.id)}" data-c="${esc(cid)}"` +
      ` title="${esc(title)}"><span class="g" aria-hidden="true">${GLYPH[cell.v]}${differs}</span>` +
      `<span class="t">${cell.v}</span>${odd ? '<span class="oddmark">≠</span>' : ""}</button></td>`;
  }

  function consCell(row) {
    const c = row.cons;
    if (!c.of) return `<td class="cons">-</td>`;
    if (!c.verdict) return `<td class="cons">no consensus <span class="n">(${c.of} clients)</span></td>`;
    return `<td class="cons" title="${esc(c.summary)}"><span class="verdict v-${c.verdict}">${GLYPH[c.verdict]} ${c.verdict}</span> ` +
      `<span class="n">${c.count}/${c.of}</span> ${esc(c.summary.length > 60 ? c.summary.slice(0, 57) + "…" : c.summary)}</td>`;
  }

  function visibleRow(row, cols, st) {
    if (st.group && row.group !== st.group) return false;
    if (st.disagree && !row.cons.disagree) return false;
    if (st.q) {
      const q = st.q.toLowerCase();
      if (!row.id.toLowerCase().includes(q) && !row.title.toLowerCase().includes(q)) return false;
    }
    if (st.verdict && !cols.some(cid => row.cells[cid] && row.cells[cid].v === st.verdict)) return false;
    return true;
  }

  function render(st) {
    let shown = 0;
    const out = [];
    for (const fam of FAMILIES) {
      let cols = DATA.columns[fam];
      if (st.client) cols = cols.filter(cid => cid === st.client);
      if (!cols.length) continue;
      const rows = DATA.rows.filter(r => r.protocol === fam && visibleRow(r, cols, st));
      if (!rows.length) continue;
      shown += rows.length;
      const head = cols.map(cid => {
        const c = CLIENTS[cid];
        const py = c.python ? ` · py${c.python}` : "";
        return `<th scope="col" data-client="${esc(cid)}">${esc(c.base || c.id)}<span class="lib">${esc(c.library)} ${esc(c.version)}${esc(py)}</span></th>`;
      }).join("");
      let body = "", group = null;
      for (const row of rows) {
        if (row.group !== group) {
          group = row.group;
          body += `<tr class="group"><th colspan="${cols.length + 2}" scope="rowgroup">${esc(group)}</th></tr>`;
        }
        const sec = row.security ? `<span class="sec" title="security row">§</span>` : "";
        const badge = row.security ? `<span class="badge">security</span>` : "";
        body += `<tr class="r${row.security ? " security" : ""}" data-row="${esc(row.id)}">` +
          `<td class="row">${sec}<span class="id">${esc(row.id)}</span>${badge}` +
          `<span class="title">${esc(row.title)} · ${esc(row.spec)} · ${row.level}</span></td>` +
          cols.map(cid => cellButton(row, cid)).join("") + consCell(row) + `</tr>`;
      }
      out.push(`<h2>${esc(fam.toUpperCase())} clients</h2><div class="wrap"><table data-family="${esc(fam)}">` +
        `<thead><tr><th class="row" scope="col">scenario</th>${head}<th scope="col">consensus<span class="lib">most clients</span></th></tr></thead>` +
        `<tbody>${body}</tbody></table></div>`);
    }
    $("#tables").innerHTML = out.length ? out.join("") : `<p class="empty">No rows match these filters.</p>`;
    $("#shown").textContent = `showing ${shown} of ${DATA.rows.length} rows`;
  }

  function kv(pairs) {
    return `<dl class="kv">` + pairs.filter(p => p[1] !== undefined && p[1] !== null && p[1] !== "")
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("") + `</dl>`;
  }
  function headers(list) {
    if (!list || !list.length) return "<em>none</em>";
    return `<table class="h">` + list.map(([k, v]) => `<tr><td>${esc(k)}:</td><td>${esc(v)}</td></tr>`).join("") + `</table>`;
  }
  function sentBlock(s, i) {
    return `<h4>request ${i + 1}: ${esc(s.method)} ${esc(s.target)} ${esc(s.version || "")}</h4>` + kv([
      ["server", esc(s.server)], ["framing", esc(s.framing)], ["body", `${s.body_len} bytes`],
      ["body excerpt", s.body_excerpt ? `<pre>${esc(s.body_excerpt)}</pre>` : ""],
      ["problem", esc(s.problem)], ["headers", headers(s.headers)],
      ["trailers", s.trailers && s.trailers.length ? headers(s.trailers) : ""]]);
  }

  function openDetail(sid, cid) {
    const row = ROWS[sid], cell = row && row.cells[cid];
    if (!cell) return;
    const c = CLIENTS[cid], x = cell.x || {}, got = x.got, err = x.error;
    const odd = row.cons.odd.includes(cid);
    let html = `<button type="button" class="close" id="detail-close">close</button>` +
      `<h3>${esc(row.id)} · ${esc(cid)}</h3><p>${esc(row.title)}</p>` + kv([
        ["spec", `${esc(row.spec)}, ${row.level}${row.security ? ", security row" : ""}`],
        ["client", `${esc(c.library)} ${esc(c.version)} (${esc(c.mode)})${c.python ? " on Python " + esc(c.python) : ""}`],
        ["verdict", `<span class="verdict v-${cell.v}">${GLYPH[cell.v]} ${cell.v}</span>` +
          (odd ? " ≠ odd one out: most clients " + esc(row.cons.verdict ? row.cons.verdict + ": " + row.cons.summary : "disagree") : "")],
        ["summary", esc(cell.m)],
        ["intermittent", cell.n ? cell.n.map(v => esc(v.verdict + " x" + v.count + ": " + v.summary)).join("<br>") : ""],
        ["expected", cell.e ? esc(cell.e.verdict + ": " + cell.e.summary) : "<em>no expectation recorded</em>"],
        ["pytest", esc(cell.o) + (cell.o === "failed" ? " (differs from the expectation)" : "")],
        ["options", x.options && Object.keys(x.options).length ? `<code>${esc(JSON.stringify(x.options))}</code>` : "library defaults"]]);
    html += `<h4>sent (${(x.sent || []).length} request${(x.sent || []).length === 1 ? "" : "s"})</h4>`;
    html += (x.sent || []).map(sentBlock).join("") || "<p><em>nothing reached the server</em></p>";
    html += `<h4>got</h4>`;
    if (got) {
      html += kv([["status", `${got.status} ${esc(got.reason || "")}`], ["url", esc(got.url)],
        ["history", got.history && got.history.length ? esc(got.history.join(" → ")) : ""],
        ["body", `${got.body_len} bytes`], ["body excerpt", got.body_text ? `<pre>${esc(got.body_text)}</pre>` : ""],
        ["headers", headers(got.headers)],
        ["extra", got.extra ? `<pre>${esc(JSON.stringify(got.extra, null, 1))}</pre>` : ""]]);
    } else if (!err) html += "<p><em>no response</em></p>";
    if (err) html += `<h4>raised</h4>` + kv([["error kind", esc(err.kind)], ["exception", `<code>${esc(err.type)}</code>`],
      ["message", esc(err.message)]]);
    html += `<h4>run just this cell</h4><pre class="cmd">${esc(cell.p)}</pre>`;
    html += `<h4>reproducer</h4><pre class="repro">${esc(cell.r)}</pre>`;
    const dlg = $("#detail");
    dlg.querySelector(".inner").innerHTML = html;
    $("#detail-close").addEventListener("click", () => dlg.close());
    if (!dlg.open) dlg.showModal();
  }

  let state = readState();
  controls(state);
  render(state);
  if (state.cell) { const [s, c] = state.cell.split("|"); openDetail(s, c); }
  $("form.filters").addEventListener("input", () => { state = stateFromControls(); writeState(state); render(state); });
  $("form.filters").addEventListener("submit", ev => ev.preventDefault());
  $("#f-reset").addEventListener("click", () => { state = {group: "", client: "", verdict: "", disagree: false, q: "", cell: ""};
    controls(state); writeState(state); render(state); });
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
