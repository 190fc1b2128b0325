import type { Handler } from '../http/types.ts';

/**
 * A live dashboard for the local stack: one self-contained HTML page (inline CSS and JS, no network
 * beyond this origin) that polls `/metrics` every second, parses the Prometheus text format in the
 * browser and plots ingest, latency, API, freshness and cache series on plain <canvas>.
 */
export function createDashboardHandler(): Handler {
  const html = dashboardHtml();
  return async () => ({
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    },
    body: html,
  });
}

const CHARTS: { id: string; title: string; unit: string }[] = [
  { id: 'ingest-rate', title: 'Ingest rate by outcome', unit: 'msg/s' },
  { id: 'e2e-latency', title: 'Ingest e2e latency p50 / p95 / p99', unit: 's' },
  { id: 'api-rate', title: 'API request rate', unit: 'req/s' },
  { id: 'api-latency', title: 'API latency p99', unit: 's' },
  { id: 'api-errors', title: 'API error rate (5xx share)', unit: '%' },
  { id: 'freshness', title: 'Freshness by dataset', unit: 's' },
  { id: 'cache-hit', title: 'Cache hit ratio', unit: '%' },
];

function dashboardHtml(): string {
  const panels = CHARTS.map(
    (c) =>
      `<section class="panel"><h2>${c.title} <small>(${c.unit})</small></h2>` +
      `<canvas id="chart-${c.id}" class="chart" width="520" height="180" data-points="0"></canvas>` +
      `<div class="legend" id="legend-${c.id}"></div></section>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ducto dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:16px;background:#0f1115;color:#e6e6e6}
h1{font-size:18px;margin:0 0 8px}h2{font-size:14px;margin:0 0 6px;font-weight:600}small{color:#999;font-weight:400}
#numbers{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:12px}
.num{background:#1a1d24;border-radius:6px;padding:8px 12px;min-width:120px}.num b{display:block;font-size:20px}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:12px}
.panel{background:#1a1d24;border-radius:6px;padding:10px}.chart{width:100%;height:180px;background:#12141a}
.legend span{margin-right:12px;white-space:nowrap}#status{color:#999;margin-bottom:8px}
</style></head><body>
<h1>ducto — live metrics</h1><div id="status">connecting…</div>
<div id="numbers">
<div class="num">stored total<b id="stored-total">0</b></div>
<div class="num">duplicates<b id="duplicate-total">0</b></div>
<div class="num">rejected<b id="rejected-total">0</b></div>
<div class="num">retried<b id="retried-total">0</b></div>
<div class="num">ingest msg/s<b id="ingest-rate-now">0</b></div>
<div class="num">pending rows<b id="pending-rows">0</b></div>
<div class="num">API req/s<b id="api-rate-now">0</b></div>
<div class="num">cache hit ratio<b id="cache-hit-now">–</b></div>
</div>
<div id="grid">
${panels}
</div>
<script>${CLIENT_JS}</script>
</body></html>`;
}

// Browser code; plain ES2017, no template literals (it lives inside one).
const CLIENT_JS = String.raw`
'use strict';
var MAX = 120, COLORS = ['#4e9af1','#f1c84e','#e0605e','#6fcf7a','#b67ef0','#4ed6d6','#f08ed0'];
var series = {}; var samples = [];
function parse(text){
  var out = [];
  text.split('\n').forEach(function(line){
    if (!line || line.charAt(0) === '#') return;
    var m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) return;
    var labels = {}, re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g, l;
    while ((l = re.exec(m[3] || '')) !== null) labels[l[1]] = l[2].replace(/\\n/g,'\n').replace(/\\"/g,'"').replace(/\\\\/g,'\\');
    var v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    out.push({name: m[1], labels: labels, value: v});
  });
  return out;
}
function sum(s, name, filter){
  var t = 0; s.forEach(function(x){ if (x.name === name && (!filter || filter(x.labels))) t += x.value; }); return t;
}
function groupSum(s, name, key){
  var g = {}; s.forEach(function(x){ if (x.name === name){ var k = x.labels[key] || ''; g[k] = (g[k] || 0) + x.value; } }); return g;
}
function buckets(s, name){
  var b = {}; s.forEach(function(x){ if (x.name === name + '_bucket'){ var le = x.labels.le; b[le] = (b[le] || 0) + x.value; } }); return b;
}
function quantile(q, cur, prev){
  var les = Object.keys(cur).map(function(k){ return {le: k === '+Inf' ? Infinity : Number(k), c: cur[k] - ((prev && prev[k]) || 0)}; })
    .sort(function(a,b){ return a.le - b.le; });
  if (!les.length) return null;
  var total = les[les.length-1].c; if (!(total > 0)) return null;
  var rank = q * total, lo = 0, loC = 0;
  for (var i = 0; i < les.length; i++){
    if (les[i].c >= rank){
      if (les[i].le === Infinity) return lo;
      var span = les[i].c - loC; return lo + (les[i].le - lo) * (span > 0 ? (rank - loC) / span : 0);
    }
    lo = les[i].le; loC = les[i].c;
  }
  return lo;
}
function push(chart, name, v){
  var c = series[chart] || (series[chart] = {}); var a = c[name] || (c[name] = []);
  a.push(v === null || !isFinite(v) ? null : v); while (a.length > MAX) a.shift();
}
function fmt(v){ if (v === null || v === undefined || !isFinite(v)) return '–'; var a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(3); }
function draw(chart){
  var cv = document.getElementById('chart-' + chart), lg = document.getElementById('legend-' + chart);
  if (!cv) return; var ctx = cv.getContext('2d'), w = cv.width, h = cv.height, pad = 28;
  var s = series[chart] || {}, names = Object.keys(s).sort(), max = 0, points = 0;
  names.forEach(function(n){ s[n].forEach(function(v){ if (v !== null){ points++; if (v > max) max = v; } }); });
  if (max <= 0) max = 1;
  ctx.clearRect(0,0,w,h); ctx.strokeStyle = '#333'; ctx.fillStyle = '#888'; ctx.font = '10px sans-serif';
  for (var g = 0; g <= 4; g++){ var y = pad/2 + (h - pad) * g / 4; ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w, y); ctx.stroke();
    ctx.fillText(fmt(max * (4 - g) / 4), 0, y + 3); }
  var html = '';
  names.forEach(function(n, i){
    var a = s[n], col = COLORS[i % COLORS.length]; ctx.strokeStyle = col; ctx.lineWidth = 1.5; ctx.beginPath(); var started = false;
    for (var j = 0; j < a.length; j++){
      if (a[j] === null){ started = false; continue; }
      var x = pad + (w - pad) * (j + MAX - a.length) / (MAX - 1), y2 = pad/2 + (h - pad) * (1 - a[j] / max);
      if (started) ctx.lineTo(x, y2); else { ctx.moveTo(x, y2); started = true; }
    }
    ctx.stroke();
    var last = a.length ? a[a.length-1] : null;
    html += '<span style="color:' + col + '">\u25A0 ' + esc(n) + ': <b class="value">' + fmt(last) + '</b></span>';
  });
  lg.innerHTML = html; cv.setAttribute('data-points', String(points));
}
function esc(t){ return String(t).replace(/[&<>"]/g, function(c){ return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]; }); }
function setText(id, v){ var e = document.getElementById(id); if (e) e.textContent = v; }
function update(s, t){
  samples.push({t: t, s: s}); while (samples.length > 11) samples.shift();
  var prev = samples.length > 1 ? samples[samples.length-2] : null, win = samples[0] !== samples[samples.length-1] ? samples[0] : null;
  var dt = prev ? (t - prev.t) / 1000 : 0;
  var outcomes = groupSum(s, 'ducto_ingest_messages_total', 'outcome');
  var prevOutcomes = prev ? groupSum(prev.s, 'ducto_ingest_messages_total', 'outcome') : {};
  ['stored','duplicate','rejected','retried'].forEach(function(o){
    setText(o + '-total', String(outcomes[o] || 0));
    push('ingest-rate', o, prev && dt > 0 ? ((outcomes[o] || 0) - (prevOutcomes[o] || 0)) / dt : 0);
  });
  var totalNow = 0, totalPrev = 0; Object.keys(outcomes).forEach(function(k){ totalNow += outcomes[k]; });
  Object.keys(prevOutcomes).forEach(function(k){ totalPrev += prevOutcomes[k]; });
  setText('ingest-rate-now', fmt(prev && dt > 0 ? (totalNow - totalPrev) / dt : 0));
  setText('pending-rows', fmt(sum(s, 'ducto_ingest_pending_rows')));
  var eb = buckets(s, 'ducto_ingest_e2e_latency_seconds'), ebw = win ? buckets(win.s, 'ducto_ingest_e2e_latency_seconds') : null;
  [['p50',0.5],['p95',0.95],['p99',0.99]].forEach(function(q){
    var v = quantile(q[1], eb, ebw); if (v === null) v = quantile(q[1], eb, null); push('e2e-latency', q[0], v);
  });
  var req = sum(s, 'ducto_api_requests_total'), reqP = prev ? sum(prev.s, 'ducto_api_requests_total') : req;
  var rate = prev && dt > 0 ? (req - reqP) / dt : 0; push('api-rate', 'all routes', rate); setText('api-rate-now', fmt(rate));
  var ab = buckets(s, 'ducto_api_request_duration_seconds'), abw = win ? buckets(win.s, 'ducto_api_request_duration_seconds') : null;
  var p99 = quantile(0.99, ab, abw); if (p99 === null) p99 = quantile(0.99, ab, null); push('api-latency', 'p99', p99);
  var is5 = function(l){ return /^5/.test(l.status || ''); };
  var err = sum(s, 'ducto_api_requests_total', is5), errW = win ? sum(win.s, 'ducto_api_requests_total', is5) : 0;
  var reqW = win ? sum(win.s, 'ducto_api_requests_total') : 0;
  push('api-errors', '5xx', req - reqW > 0 ? 100 * (err - errW) / (req - reqW) : 0);
  var fr = groupSum(s, 'ducto_freshness_seconds', 'dataset'); Object.keys(fr).forEach(function(d){ push('freshness', d, fr[d]); });
  var cache = groupSum(s, 'ducto_cache_requests_total', 'result'), hits = cache.hit || 0, all = 0;
  Object.keys(cache).forEach(function(k){ all += cache[k]; });
  var ratio = all > 0 ? 100 * hits / all : null; push('cache-hit', 'hit %', ratio); setText('cache-hit-now', ratio === null ? '–' : fmt(ratio) + '%');
  Object.keys(series).forEach(draw);
  ['ingest-rate','e2e-latency','api-rate','api-latency','api-errors','freshness','cache-hit'].forEach(function(c){ if (!series[c]) draw(c); });
}
var polls = 0;
function poll(){
  fetch('/metrics', {cache: 'no-store'}).then(function(r){ if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
    .then(function(text){ polls++; update(parse(text), Date.now());
      setText('status', 'updated ' + new Date().toLocaleTimeString() + ' (' + polls + ' polls)'); document.body.setAttribute('data-polls', String(polls)); })
    .catch(function(e){ setText('status', 'error: ' + e.message); })
    .then(function(){ setTimeout(poll, 1000); });
}
poll();
`;
