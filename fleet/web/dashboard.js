// The fleet dashboard's script: fetches the admin API every few seconds and renders it.
// Plain DOM and SVG, no dependencies. The admin token comes from the sign-in form or from the
// URL fragment (#token=..., never sent to the server), and is kept in sessionStorage.
"use strict";

const REFRESH_MS = 5000;
const COLORS = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f"];
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem("outpost-admin-token") || ""; }

function takeTokenFromFragment() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem("outpost-admin-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json" },
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) throw Object.assign(new Error("not signed in"), { auth: true });
  if (!res.ok) throw new Error(body.error || ("HTTP " + res.status));
  return body;
}

function text(v, digits = 2) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return String(v);
}
function percent(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(2) + " %"; }
function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}
function when(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z" : "never"; }

function cell(row, value, className) {
  const td = row.insertCell();
  td.textContent = value;
  if (className) td.className = className;
  return td;
}

function fillTable(id, items, render) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const item of items) render(body.insertRow(), item);
  if (!items.length) {
    const td = body.insertRow().insertCell();
    td.colSpan = $(id).tHead.rows[0].cells.length;
    td.className = "muted";
    td.textContent = "none";
  }
}

function renderSummary(s) {
  $("devices-total").textContent = s.devices.total;
  $("devices-online").textContent = s.devices.online;
  $("devices-offline").textContent = s.devices.offline;
  $("alerts-open").textContent = s.alerts_open;
  $("bandwidth").textContent = bytes(s.bandwidth.bytes_per_device_month);
  $("cost").textContent = "$" + s.bandwidth.cost_per_device_month.toFixed(4);
  fillTable("versions", s.versions, (r, v) => {
    cell(r, v.model); cell(r, v.version); cell(r, v.devices);
    cell(r, percent(v.error_rate)); cell(r, text(v.latency_p99_ms) + " ms");
    cell(r, v.agreement === null ? "–" : percent(v.agreement)); cell(r, text(v.drift_psi, 3));
  });
}

function renderRollouts(rollouts) {
  fillTable("rollouts", rollouts, (r, ro) => {
    cell(r, ro.model); cell(r, ro.version); cell(r, ro.baseline_version); cell(r, ro.group || "all");
    cell(r, (ro.stage + 1) + " / " + ro.stages);
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.title = ro.members + " of " + ro.eligible + " devices";
    const fill = document.createElement("div");
    fill.style.width = (ro.eligible ? Math.round(100 * ro.members / ro.eligible) : 0) + "%";
    bar.append(fill);
    r.insertCell().append(bar);
    cell(r, ro.state, "state-" + ro.state);
    cell(r, ro.reason || "");
    const actions = r.insertCell();
    const verbs = { running: ["pause", "abort"], paused: ["resume", "abort"], halted: ["abort"] }[ro.state] || [];
    for (const verb of verbs) {
      const b = document.createElement("button");
      b.textContent = verb;
      b.onclick = async () => {
        try {
          await api("/v1/rollouts/" + ro.id + "/" + verb, { method: "POST", body: JSON.stringify({ reason: "from the dashboard" }) });
          refresh();
        } catch (e) { $("error").textContent = e.message; }
      };
      actions.append(b);
    }
  });
}

function renderAlerts(alerts, webhook) {
  fillTable("alerts", alerts, (r, a) => {
    cell(r, when(a.fired_ms)); cell(r, a.rule); cell(r, a.subject); cell(r, a.message);
    cell(r, text(a.value, 3)); cell(r, !webhook ? "no webhook" : a.delivered ? "delivered" : "pending");
  });
}

function renderDevices(devices) {
  fillTable("devices", devices, (r, d) => {
    r.className = "clickable";
    r.onclick = () => showDevice(d.id);
    cell(r, d.id); cell(r, d.name); cell(r, d.group); cell(r, d.tags.join(", "));
    cell(r, d.model); cell(r, d.version); cell(r, when(d.last_seen_ms));
  });
}

async function showDevice(id) {
  const d = await api("/v1/devices/" + encodeURIComponent(id));
  $("device-title").textContent = d.name + " (" + d.id + ")";
  $("device-json").textContent = JSON.stringify(d, null, 2);
  $("device-detail").hidden = false;
}

// A line chart per version: x = time, y = the metric; one colour per version, with a legend.
function lineChart(svgId, points, metric) {
  const svg = $(svgId);
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const W = 480, H = 200, L = 44, R = 8, T = 10, B = 24;
  const usable = points.filter((p) => p[metric] !== null && p[metric] !== undefined);
  const add = (tag, attrs, content) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (content !== undefined) e.textContent = content;
    svg.append(e);
    return e;
  };
  if (!usable.length) {
    add("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#99a" }, "no data yet");
    return;
  }
  const xs = usable.map((p) => p.bucket_ms), ys = usable.map((p) => p[metric]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || x0 + 1;
  const y1 = Math.max(...ys) * 1.1 || 1;
  const X = (x) => L + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y) => H - B - (y / y1) * (H - T - B);
  add("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#99a" });
  add("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#99a" });
  add("text", { x: L - 4, y: T + 8, "text-anchor": "end", "font-size": 10 }, text(y1, 2));
  add("text", { x: L - 4, y: H - B, "text-anchor": "end", "font-size": 10 }, "0");
  const versions = [...new Set(usable.map((p) => p.version))];
  versions.forEach((v, i) => {
    const series = usable.filter((p) => p.version === v).sort((a, b) => a.bucket_ms - b.bucket_ms);
    const color = COLORS[i % COLORS.length];
    add("polyline", { fill: "none", stroke: color, "stroke-width": 2,
                      points: series.map((p) => X(p.bucket_ms) + "," + Y(p[metric])).join(" ") });
    for (const p of series) add("circle", { cx: X(p.bucket_ms), cy: Y(p[metric]), r: 2.5, fill: color });
    add("text", { x: L + 8 + i * 90, y: H - 6, fill: color, "font-size": 11 }, v);
  });
}

async function refresh() {
  try {
    const [summary, rollouts, alerts, devices] = await Promise.all([
      api("/v1/dashboard/summary"), api("/v1/rollouts"), api("/v1/alerts?open=1"), api("/v1/devices?limit=100"),
    ]);
    renderSummary(summary);
    renderRollouts(rollouts.rollouts);
    renderAlerts(alerts.alerts, alerts.webhook);
    renderDevices(devices.devices);
    const model = summary.versions.length ? summary.versions[0].model : "";
    const series = model ? (await api("/v1/dashboard/series?model=" + encodeURIComponent(model))).points : [];
    lineChart("latency-chart", series, "latency_p99_ms");
    lineChart("drift-chart", series, "drift_psi");
    $("updated").textContent = "updated " + when(Date.now());
    $("error").textContent = "";
    $("login").hidden = true;
    $("app").hidden = false;
    document.body.dataset.ready = "1";
  } catch (e) {
    if (e.auth) {
      $("login").hidden = false;
      $("app").hidden = true;
    }
    $("error").textContent = e.message;
  }
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("outpost-admin-token", $("token").value);
  refresh();
});
takeTokenFromFragment();
refresh();
setInterval(refresh, REFRESH_MS);
