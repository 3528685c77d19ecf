// The dashboard: polls /api/cluster (docs/observability.md) and redraws
// the tables. Plain DOM, no library; text goes in through textContent only.
"use strict";

const POLL_MS = 1000;
let last = null; // the previous document, for rates

function fmtInt(n) {
  return n == null ? "–" : Number(n).toLocaleString("en-US");
}

function fmtBytes(n) {
  if (n == null || n < 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

function fmtSeconds(s) {
  if (s == null) return "–";
  if (s < 1e-3) return (s * 1e6).toFixed(0) + " µs";
  if (s < 1) return (s * 1e3).toFixed(1) + " ms";
  return s.toFixed(2) + " s";
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function fill(tableId, rows, emptyText, draw) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.textContent = "";
  if (!rows.length) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = cell(tr, emptyText);
    td.colSpan = document.querySelectorAll("#" + tableId + " th").length;
    body.appendChild(tr);
    return;
  }
  for (const r of rows) {
    const tr = document.createElement("tr");
    draw(tr, r);
    body.appendChild(tr);
  }
}

function cpu(resources) {
  const c = (resources || []).find((r) => r.name === "CPU");
  return c ? (c.total - c.available) + " / " + c.total : "–";
}

function role(n) {
  return n.is_head ? "head" : n.is_driver ? "driver" : "node";
}

function short(id) {
  return id ? id.slice(0, 8) : "?";
}

function rate(now, before, key, name) {
  if (!before) return null;
  const dt = (now.time_ms - before.time_ms) / 1000;
  if (dt <= 0) return null;
  let a, b;
  if (name === undefined) {
    a = now.totals[key];
    b = before.totals[key];
  } else {
    const f = before.functions.find((x) => x.name === name);
    const g = now.functions.find((x) => x.name === name);
    a = g ? g[key] : 0;
    b = f ? f[key] : 0;
  }
  return Math.max(0, (a - b) / dt);
}

function draw(doc) {
  const t = doc.totals;
  document.getElementById("head").textContent = "head " + short(doc.head_node_id);
  document.getElementById("total-nodes-alive").textContent = fmtInt(t.nodes_alive);
  document.getElementById("total-nodes-dead").textContent = fmtInt(t.nodes_dead);
  document.getElementById("total-finished").textContent = fmtInt(t.tasks_finished);
  const r = rate(doc, last, "tasks_finished");
  document.getElementById("total-rate").textContent = r == null ? "–" : r.toFixed(1);
  document.getElementById("total-running").textContent = fmtInt(t.tasks_running);
  document.getElementById("total-failed").textContent = fmtInt(t.tasks_failed);
  document.getElementById("total-actors").textContent = fmtInt(t.actors_alive);
  document.getElementById("total-objects").textContent =
    fmtInt(t.objects) + " (" + fmtBytes(t.object_bytes) + ")";

  fill("nodes", doc.nodes, "no nodes", (tr, n) => {
    const rep = n.report;
    tr.dataset.node = n.node_id;
    tr.dataset.state = n.state;
    if (n.state !== "alive") tr.className = "dead";
    cell(tr, short(n.node_id)).title = n.node_id;
    cell(tr, n.address || "(embedded)");
    cell(tr, role(n));
    cell(tr, n.state, "state-" + n.state);
    cell(tr, n.heartbeat_age_seconds.toFixed(1) + " s ago", "num");
    cell(tr, cpu(n.resources), "num");
    cell(tr, fmtInt(rep ? rep.tasks.queued : n.load.queued), "num");
    cell(tr, fmtInt(rep ? rep.tasks.running : n.load.running), "num");
    cell(tr, fmtInt(n.load.finished), "num");
    cell(tr, fmtInt(n.load.actors), "num");
    cell(tr, rep ? fmtInt(rep.objects.count) + " (" + fmtBytes(rep.objects.bytes) + ")" : "–", "num");
    cell(tr, rep ? fmtBytes(rep.rss_bytes) : "–", "num").title =
      n.report_error || "resident memory of the process";
  });

  fill("functions", doc.functions, "no task has run yet", (tr, f) => {
    tr.dataset.function = f.name;
    cell(tr, f.name);
    cell(tr, fmtInt(f.submitted), "num");
    cell(tr, fmtInt(f.finished), "num").dataset.finished = f.finished;
    cell(tr, fmtInt(f.failed), "num");
    const fr = rate(doc, last, "finished", f.name);
    cell(tr, fr == null ? "–" : fr.toFixed(1), "num");
    cell(tr, fmtSeconds(f.p50_seconds), "num");
    cell(tr, fmtSeconds(f.p99_seconds), "num");
  });

  fill("actors", doc.actors, "no actors", (tr, a) => {
    cell(tr, a["class"]);
    cell(tr, a.name || "");
    cell(tr, short(a.node_id)).title = a.node_id;
    cell(tr, a.state, "state-" + a.state);
    cell(tr, fmtInt(a.calls), "num");
    cell(tr, fmtInt(a.running), "num");
    cell(tr, fmtInt(a.queued), "num");
  });

  fill("errors", doc.errors, "no errors", (tr, e) => {
    cell(tr, new Date(e.time_ms).toLocaleTimeString());
    cell(tr, short(e.node_id)).title = e.node_id;
    cell(tr, e.what);
    cell(tr, e.code);
    cell(tr, e.message);
    cell(tr, e.origin);
  });
}

async function poll() {
  const status = document.getElementById("updated");
  try {
    const res = await fetch("/api/cluster", { credentials: "same-origin", cache: "no-store" });
    if (res.status === 401) {
      location.reload(); // the node answers with its token page
      return;
    }
    const doc = await res.json();
    if (!res.ok) {
      status.textContent = "the node answered " + res.status + ": " + (doc.error || "");
    } else {
      draw(doc);
      last = doc;
      status.textContent = "updated " + new Date(doc.time_ms).toLocaleTimeString();
    }
  } catch (e) {
    status.textContent = "no answer from the node (" + e.message + ")";
  }
  setTimeout(poll, POLL_MS);
}

poll();
