namespace FlowOrleans.Silo.Http;

/// <summary>
/// The status page: one static document whose script polls <c>/status.json</c> every second and redraws the tables.
/// No build step and no external resources. Every value is set as text (names and endpoints come from clients), never
/// as markup.
/// </summary>
internal static class StatusPage
{
    public const string Html = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>FlowOrleans status</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; } h3 { font-size: 1em; margin-bottom: .3em; }
  table { border-collapse: collapse; margin-bottom: 1em; }
  th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; font-variant-numeric: tabular-nums; }
  th { background: #f3f3f3; } .muted { color: #777; } .error { color: #b00; }
  code { font-size: 12px; }
</style>
</head>
<body>
<h1>FlowOrleans cluster status</h1>
<p id="summary" class="muted">Loading…</p>
<p id="error" class="error"></p>
<h2>Pins</h2>
<table id="pins"><thead><tr><th>Name</th><th>Endpoint</th><th>Owner silo</th><th>State</th><th>Reconnects</th><th>Moves</th><th>Last error</th></tr></thead><tbody></tbody></table>
<h2>Silos</h2>
<div id="silos"></div>
<script>
"use strict";

function cell(row, text, tag) {
  const td = document.createElement(tag || "td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  row.appendChild(td);
  return td;
}

function table(headers, rows) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  headers.forEach(h => cell(head, h, "th"));
  const body = t.createTBody();
  rows.forEach(r => { const tr = body.insertRow(); r.forEach(v => cell(tr, v)); });
  if (rows.length === 0) { const tr = body.insertRow(); const td = cell(tr, "none"); td.colSpan = headers.length; td.className = "muted"; }
  return t;
}

function ms(value) { return value.toFixed(1) + " ms"; }

function age(seconds) {
  if (seconds < 120) { return Math.round(seconds) + " s"; }
  if (seconds < 7200) { return Math.round(seconds / 60) + " min"; }
  return Math.round(seconds / 3600) + " h";
}

function render(status) {
  document.getElementById("summary").textContent =
    status.silos.length + " silo(s), " + status.pins.length + " pin(s); served by " + status.thisSilo + " at " + new Date(status.time).toLocaleTimeString();
  const pins = document.querySelector("#pins tbody");
  pins.replaceChildren();
  status.pins.forEach(p => {
    const tr = pins.insertRow();
    tr.dataset.pin = p.name;
    [p.name, p.endpoint, p.ownerSilo || "(none)", p.status, p.reconnects, p.moves, p.lastError].forEach(v => cell(tr, v));
  });
  if (status.pins.length === 0) { const td = cell(pins.insertRow(), "none"); td.colSpan = 7; td.className = "muted"; }

  const silos = document.getElementById("silos");
  silos.replaceChildren();
  status.silos.forEach(s => {
    const section = document.createElement("section");
    const title = document.createElement("h3");
    title.textContent = "Silo " + s.siloKey + (s.siloKey === status.thisSilo ? " (this silo)" : "") + ": " + s.openFlows + " open flow(s)";
    section.appendChild(title);
    const rid = document.createElement("p");
    rid.className = "muted";
    rid.textContent = "Routing ID " + s.routingId;
    section.appendChild(rid);
    section.appendChild(table(["Listener"], s.listeners.map(l => [l])));
    section.appendChild(table(["Connection to", "Blessings", "RTT", "Age", "Open flows"],
      s.connections.map(c => [c.remoteEndpoint, c.remoteBlessings.join(", "), ms(c.rttMs), age(c.ageSeconds), c.openFlows])));
    section.appendChild(table(["Pin held", "Endpoint", "Connected to", "RTT", "Reconnects"],
      s.pins.map(p => [p.name, p.endpoint, p.remoteEndpoint, ms(p.rttMs), p.reconnects])));
    silos.appendChild(section);
  });
}

async function poll() {
  try {
    const response = await fetch("status.json", { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) { throw new Error(body.error || response.statusText); }
    render(body);
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "Status unavailable: " + e.message;
  } finally {
    setTimeout(poll, 1000);
  }
}

poll();
</script>
</body>
</html>
""";
}
