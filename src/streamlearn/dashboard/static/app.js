/* streamlearn page logic: draws one run's state; live pages follow /events (SSE). */
"use strict";
(() => {
  const boot = window.STREAMLEARN || { mode: "live", state: null };
  const $ = (id) => document.getElementById(id);
  const fmt = SLCharts.fmt;
  let state = boot.state;
  let xAxis = "records";
  let selectedRun = "";
  let events = null;
  let pending = false;
  let serverGone = false;
  const colors = new Map();

  function colorOf(name) {
    if (!colors.has(name)) colors.set(name, SLCharts.PALETTE[colors.size % SLCharts.PALETTE.length]);
    return colors.get(name);
  }

  function cell(tr, value, cls) {
    const td = document.createElement("td");
    if (value instanceof Node) td.appendChild(value); else td.textContent = value == null ? "" : String(value);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function header(table, names, numeric) {
    const tr = document.createElement("tr");
    names.forEach((n, i) => {
      const th = document.createElement("th");
      th.textContent = n;
      if (numeric && numeric[i]) th.className = "num";
      tr.appendChild(th);
    });
    table.appendChild(tr);
  }

  function int(v) { return v == null ? "n/a" : Number(v).toLocaleString("en-US"); }

  function setStatus(text, cls) {
    const b = $("status");
    b.textContent = text;
    b.className = "badge " + (cls || text);
  }

  function isClassification(s) { return (s.summary.task || (s.info && s.info.task)) === "classification"; }

  function renderCards(s) {
    const sum = s.summary, p = s.progress;
    const cards = [
      ["records", int(p.consumed), p.total ? `of ${int(p.total)}` : ""],
      ["records/s", fmt(s.rate_now), s.rate_avg ? `average ${fmt(s.rate_avg)}` : ""],
      ["lag", p.lag == null ? "n/a" : int(p.lag), p.lag == null ? "only Kafka reports lag" : "records waiting"],
      ["batches", int(sum.batches || 0), sum.batch_size ? `up to ${int(sum.batch_size)} records` : ""],
      ["dead letters", int(sum.dead_letters || 0), ""],
      ["cold start", int(sum.cold_start || 0), "predictions before learning"],
      ["champion", sum.champion || "n/a", ""],
      ["elapsed", s.elapsed_s == null ? "n/a" : `${Number(s.elapsed_s).toFixed(1)} s`,
       s.started ? `started ${s.started}` : ""],
    ];
    const box = $("cards");
    box.textContent = "";
    for (const [label, value, sub] of cards) {
      const card = document.createElement("div");
      card.className = "card";
      card.dataset.card = label;
      for (const [cls, text] of [["label", label], ["value", value], ["sub", sub]]) {
        const d = document.createElement("div");
        d.className = cls;
        d.textContent = text;
        card.appendChild(d);
      }
      box.appendChild(card);
    }
  }

  function renderLeaderboard(s) {
    const sum = s.summary, cls = isClassification(s), table = $("leaderboard");
    table.textContent = "";
    const cols = cls
      ? ["rank", "model", "accuracy", "windowed accuracy", "predicted", "correct", "cold start", "drift alarms"]
      : ["rank", "model", "MSE", "windowed MSE", "MAE", "predicted", "cold start", "drift alarms"];
    header(table, cols, cols.map((c) => c !== "model"));
    const models = sum.models || {};
    for (const row of sum.leaderboard || []) {
      const m = models[row.name] || {};
      const tr = document.createElement("tr");
      tr.dataset.model = row.name;
      if (row.name === sum.champion) tr.className = "champion";
      cell(tr, row.rank, "num");
      const name = document.createElement("span");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colorOf(row.name);
      name.append(sw, document.createTextNode(row.name));
      if (row.name === sum.champion) {
        const c = document.createElement("span");
        c.className = "crown";
        c.textContent = "champion";
        name.appendChild(c);
      }
      if (row.member_of) {
        tr.className = "member";
        const f = document.createElement("span");
        f.className = "member-badge";
        f.textContent = `in ${row.member_of}`;
        name.appendChild(f);
      }
      const leader = (m.diagnostics || {}).leader;
      if (leader) {
        const f = document.createElement("span");
        f.className = "member-badge";
        f.textContent = `led by ${leader}`;
        name.appendChild(f);
      }
      if (m.failed) {
        tr.className = "failed";
        const f = document.createElement("span");
        f.className = "failed-badge";
        f.textContent = `failed at record ${int(m.failed.record)}`;
        f.title = m.failed.error + (m.failed.position ? ` (${m.failed.position})` : "");
        name.appendChild(f);
      }
      cell(tr, name);
      const drift = m.drift || {};
      const alarms = drift.alarms
        ? `${int(drift.alarms)} (last at ${int(drift.records[drift.records.length - 1])})`
        : "0";
      if (cls) {
        [fmt(row.cumulative, true), fmt(row.windowed, true), int(row.predicted), int(m.correct),
         int(m.cold_start), alarms].forEach((v) => cell(tr, v, "num"));
      } else {
        [fmt(row.cumulative), fmt(row.windowed), fmt(m.mae), int(row.predicted),
         int(m.cold_start), alarms].forEach((v) => cell(tr, v, "num"));
      }
      table.appendChild(tr);
    }
    const sig = sum.significance;
    $("significance").textContent = sig
      ? `champion ${sig.champion} vs runner-up ${sig.runner_up}: p = ${fmt(sig.p_value)} ` +
        `(${sig.test}, last ${int(sig.window)} records)` +
        (sig.p_value != null && sig.p_value < 0.05 ? ": a significant lead" : ": not significant yet")
      : (sum.leaderboard || []).length > 1 ? "p-value: waiting for predictions" : "";
  }

  function chartSeries(s, kind) {
    const xs = s.series[xAxis];
    return Object.entries(s.series.models).map(([name, m]) => ({
      name, x: xs, y: m[kind], color: colorOf(name),
      width: name === s.summary.champion ? 2.6 : 1.6,
    }));
  }

  function renderCharts(s) {
    const cls = isClassification(s);
    const metric = cls ? "accuracy" : "MSE";
    const xl = xAxis === "records" ? "records" : "batch";
    $("title-cumulative").textContent = `Cumulative ${metric} per model`;
    $("title-windowed").textContent = `Windowed ${metric} per model`;
    const common = { xLabel: xl, yLabel: metric, percent: cls, log: cls ? false : "auto" };
    SLCharts.lineChart($("chart-cumulative"), { ...common, series: chartSeries(s, "cumulative"),
      title: `cumulative ${metric}` });
    SLCharts.lineChart($("chart-windowed"), { ...common, series: chartSeries(s, "windowed"),
      title: `windowed ${metric}` });
    const xs = s.series[xAxis];
    SLCharts.lineChart($("chart-rate"), { xLabel: xl, yLabel: "records/s", zero: true,
      series: [{ name: "records/s", x: xs, y: s.series.rate, color: "#1f6feb" }] });
    SLCharts.lineChart($("chart-lag"), { xLabel: xl, yLabel: "records", zero: true, empty: "no lag reported (only Kafka sources report lag)",
      series: [{ name: "lag", x: xs, y: s.series.lag, color: "#b54708" }] });
    SLCharts.lineChart($("chart-dead"), { xLabel: xl, yLabel: "dead letters", zero: true,
      series: [{ name: "dead letters", x: xs, y: s.series.dead, color: "#b42318" }] });
  }

  function renderDead(s) {
    $("dead-count").textContent = `(${int(s.summary.dead_letters || 0)})`;
    const table = $("dead-reasons");
    table.textContent = "";
    if (!s.dead_reasons.length) {
      const tr = document.createElement("tr");
      cell(tr, "no dead letters", "note");
      table.appendChild(tr);
      return;
    }
    header(table, ["batch", "position", "reason", "raw"]);
    for (const d of s.dead_reasons) {
      const tr = document.createElement("tr");
      cell(tr, d.batch, "num");
      cell(tr, d.position, "wrap");
      cell(tr, d.reason, "wrap");
      cell(tr, d.raw, "raw");
      table.appendChild(tr);
    }
  }

  function renderLabels(s) {
    const lab = s.summary.labels;
    const joined = lab && lab.delay_s;
    $("labels-panel").hidden = !(lab && (lab.delay || joined || lab.unlabelled));
    if ($("labels-panel").hidden) return;
    $("labels-note").textContent = lab.delay
      ? `each label came ${int(lab.delay)} records after its record`
      : lab.delay_seconds != null
        ? `each label came ${lab.delay_seconds} s after its record`
        : joined ? `labels joined by key from ${int(lab.label_records || 0)} label records` : "";
    const counts = $("labels-counts");
    counts.textContent = "";
    header(counts, ["records", "count"], [false, true]);
    const rows = [
      ["learned and scored", lab.labelled], ["still waiting for a label", lab.pending],
      ["expired (no label within the timeout)", lab.unlabeled_expired],
      ["evicted (pending store full)", lab.evicted], ["served without a label", lab.unlabelled],
      ["labels: duplicates (first wins)", lab.duplicates],
      ["labels: dead-lettered (unknown or expired key)", lab.unknown_keys],
      ["labels: waiting for their record", lab.early_labels],
    ];
    for (const [what, n] of rows) {
      if (n == null) continue;
      const tr = document.createElement("tr");
      cell(tr, what, "");
      cell(tr, int(n), "num");
      counts.appendChild(tr);
    }
    const delays = $("labels-delays");
    delays.textContent = "";
    if (!joined || !joined.count) {
      const tr = document.createElement("tr");
      cell(tr, "no label joined yet", "note");
      delays.appendChild(tr);
      return;
    }
    const d = joined;
    const tr0 = document.createElement("tr");
    cell(tr0, `median ${fmt(d.p50_s)} s · 90% ${fmt(d.p90_s)} s · 99% ${fmt(d.p99_s)} s · max ${fmt(d.max_s)} s`, "note");
    delays.appendChild(tr0);
    header(delays, ["up to (s)", "labels", ""], [true, true, false]);
    // the metrics' fine bins, shown in 1-2-5 steps
    const groups = new Map();
    for (const b of d.bins) {
      let edge = null;
      if (b.up_to_s != null) {
        const k = Math.pow(10, Math.floor(Math.log10(b.up_to_s) - 1e-9));
        edge = [1, 2, 5, 10].map((m) => m * k).find((e) => e >= b.up_to_s - 1e-12);
        edge = Number(edge.toPrecision(3));
      }
      groups.set(edge, (groups.get(edge) || 0) + b.count);
    }
    const shown = [...groups].map(([up_to_s, count]) => ({ up_to_s, count }));
    const most = Math.max(...shown.map((b) => b.count));
    for (const b of shown) {
      const tr = document.createElement("tr");
      cell(tr, b.up_to_s == null ? "more" : fmt(b.up_to_s), "num");
      cell(tr, int(b.count), "num");
      const td = document.createElement("td");
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.width = `${Math.max(1, Math.round(120 * b.count / most))}px`;
      td.appendChild(bar);
      tr.appendChild(td);
      delays.appendChild(tr);
    }
  }

  function renderSchema(s) {
    const sc = s.summary.schema, table = $("schema");
    table.textContent = "";
    if (!sc) {
      $("schema-note").textContent = "the columns are shown at the end of the run";
      return;
    }
    let note = `format ${sc.format}`;
    if (sc.delimiter !== undefined) note += `, delimiter ${sc.delimiter === "\t" ? "tab" : JSON.stringify(sc.delimiter)}, ${sc.header ? "a header line" : "no header"}`;
    $("schema-note").textContent = note;
    header(table, ["column", "type", "role", "why"]);
    for (const f of sc.fields) {
      const tr = document.createElement("tr");
      cell(tr, f.name, "");
      cell(tr, f.type, "");
      cell(tr, f.role, "");
      cell(tr, f.note || "", "wrap");
      table.appendChild(tr);
    }
  }

  function renderStats(s) {
    const st = s.stats, table = $("stats");
    table.textContent = "";
    if (!st) {
      $("stats-note").textContent = "no keyed statistics in this run (streamlearn stats, or a pipeline with keyed steps, has them)";
      return;
    }
    const notes = [];
    if (st.more) notes.push(`${int(st.more)} more rows not shown`);
    if (st.evicted) notes.push(`${int(st.evicted)} keys evicted (bounded state)`);
    $("stats-note").textContent = notes.join("; ");
    header(table, st.columns, st.columns.map((c, i) => i > 2));
    for (const row of st.rows) {
      const tr = document.createElement("tr");
      row.forEach((v, i) => cell(tr, i > 2 && typeof v === "number" ? fmt(v) : v, i > 2 ? "num" : ""));
      table.appendChild(tr);
    }
  }

  function renderRuns(s) {
    const runs = s.runs || [];
    $("run-label").hidden = runs.length < 2;
    const sel = $("run-select");
    const want = ["", ...runs];
    if (sel.options.length !== want.length) {
      sel.textContent = "";
      for (const r of want) {
        const o = document.createElement("option");
        o.value = r;
        o.textContent = r || "latest";
        sel.appendChild(o);
      }
      sel.value = selectedRun;
    }
  }

  function render() {
    if (!state) return;
    const s = state;
    $("run-name").textContent = s.name ? `· ${s.name}` : "";
    document.title = `streamlearn · ${s.name || "run"}`;
    const info = s.info || {};
    const task = s.summary.task || "";
    $("meta").textContent = [task, info.kind, info.engine && `${info.engine} engine`]
      .filter(Boolean).join(" · ");
    if (!serverGone) setStatus(s.status);
    Object.keys(s.series.models).forEach(colorOf);  // race order: the PNG plots use the same colours
    renderCards(s);
    renderLeaderboard(s);
    renderCharts(s);
    renderDead(s);
    renderLabels(s);
    renderSchema(s);
    renderStats(s);
    renderRuns(s);
  }

  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  function connect() {
    if (events) events.close();
    events = new EventSource("events" + (selectedRun ? "?run=" + encodeURIComponent(selectedRun) : ""));
    events.onopen = () => { if (!state) setStatus("waiting for a run", "waiting"); };
    events.onmessage = (ev) => { state = JSON.parse(ev.data); serverGone = false; schedule(); };
    events.onerror = () => {
      if (state && state.status !== "running") {
        events.close();  // the run is over and the server is gone: keep the last picture
        serverGone = true;
        setStatus(`${state.status} · server stopped`, state.status);
      } else {
        setStatus("reconnecting", "disconnected");
      }
    };
  }

  $("x-axis").addEventListener("change", (ev) => { xAxis = ev.target.value; schedule(); });
  $("run-select").addEventListener("change", (ev) => { selectedRun = ev.target.value; connect(); });
  window.addEventListener("resize", schedule);
  if (boot.mode === "live") connect();
  render();
})();
