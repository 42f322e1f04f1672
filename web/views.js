// views.js: the app's views.  Each takes the state (the URL's hash, app.js) and the main element,
// asks the API and draws; numbers are the API's, which are the CLI's (docs/api.md).
import { api } from './api.js';
import { chart, xOf } from './chart.js';
import { el, table } from './table.js';
import { num, pct, region, t, getLang } from './i18n.js';

// A link to another view: the state with some fields changed (app.js builds the hash).
let linkTo = () => '#';
export function setLinker(fn) { linkTo = fn; }
function drill(text, change, cls = 'drill') { return el('a', { class: cls, href: linkTo(change), text }); }

function changeCell(cur, prev) {
  if (!prev) return el('span', { class: 'muted', text: t('new_entry') });
  const c = (cur - prev) / prev;
  return el('span', { class: c > 0.005 ? 'up' : c < -0.005 ? 'down' : '', text: (c >= 0 ? '+' : '') + (100 * c).toFixed(1) + '%' });
}

// Columns of a ranked table (rows of /api/v1/top); key: how the key is shown; prev: key -> row
function rankCols(keyLabel, keyCell, prev) {
  const cols = [
    { key: 'rank', label: t('rank'), num: true },
    { key: 'key', label: keyLabel, cell: keyCell },
    { key: 'packets', label: t('packets'), num: true, cell: (r) => num(r.packets) },
    { key: 'share', label: t('share'), num: true, cell: (r) => pct(r.share) },
    { key: 'sources', label: t('sources'), num: true, cell: (r) => num(r.sources) },
    { key: 'per_ip_per_day', label: t('per_ip_day'), num: true, cell: (r) => r.per_ip_per_day.toFixed(4) },
  ];
  if (prev) {
    cols.push({ key: 'prev_rank', label: t('prev_rank'), num: true, cell: (r) => (prev[r.key] ? String(prev[r.key].rank) : '—'),
      csv: (r) => (prev[r.key] ? prev[r.key].rank : '') });
    cols.push({ key: 'change', label: t('change'), num: true, cell: (r) => changeCell(r.packets, prev[r.key] && prev[r.key].packets),
      csv: (r) => (prev[r.key] ? ((r.packets - prev[r.key].packets) / prev[r.key].packets).toFixed(6) : '') });
  }
  return cols;
}

const svcCell = (r) => drill(r.key.toUpperCase(), { view: 'service', service: r.key, country: '', addr: '' });
const ccCell = (extra) => (r) => drill(`${region(r.key)} (${r.key})`, Object.assign({ view: 'region', country: r.key, addr: '' }, extra));
const asnCell = (r) => `AS${r.key}${r.org ? ' ' + r.org : ''}`;
const srcCell = (r) => drill(r.key, { view: 'source', addr: r.key });

// key -> row of the previous period, or null when it has no data at all (no rank columns then)
function byKey(rows) { if (!rows.length) return null; const m = {}; for (const r of rows) m[r.key] = r; return m; }

// The hours any sensor was out (/api/v1/coverage: `stats`'s outages), as [from, to) on the
// chart's axis, those overlapping the period [from, to] only.
async function outages(from, to) {
  const cov = await api('coverage');
  const a = xOf(from), b = xOf(to) + 86400;
  return cov.flatMap((r) => r.outages.map((o) => [xOf(o.from), xOf(o.to)])).filter(([x, y]) => y > a && x < b);
}

function seriesChart(box, s, title, shade = []) {
  const c = el('div', { class: 'chart', id: 'daily-chart' });
  box.append(el('h2', { text: title }), c);
  chart(c, s.points.map((p) => p.t), [
    { label: t('packets'), values: s.points.map((p) => p.packets) },
    { label: t('sources'), values: s.points.map((p) => p.sources), scale: 'b' },
  ], { shade });
  if (shade.length) box.append(el('p', { class: 'muted note', id: 'shade-note', text: t('shaded').replace('%d', shade.length) }));
}

// Every packet the sensors received each UTC hour (no class or service filter applies: the
// coverage records); gaps are hours no sensor observed.  Periods of up to 31 days.
async function hourlyChart(box, st) {
  if ((xOf(st.to) - xOf(st.from)) / 86400 > 30) return;
  const h = await api('series', { step: 'hour', from: st.from, to: st.to });
  const c = el('div', { class: 'chart', id: 'hourly-chart' });
  box.append(el('h2', { text: t('hourly') }), c);
  chart(c, h.points.map((p) => p.t), [{ label: t('packets'), values: h.points.map((p) => p.packets) }], { height: 200 });
}

function cards(pairs) {
  return el('div', { class: 'cards' }, ...pairs.map(([k, v, id]) => el('div', { class: 'card', id }, el('div', { class: 'muted', text: k }), el('div', { class: 'v', text: v }))));
}

// ---- overview: totals, daily series, top services and regions against the previous period
export async function overview(st, main) {
  // one request: the server caches it whole and computes the presets' ahead (docs/api.md)
  const [o, shade] = await Promise.all([api('overview', { from: st.from, to: st.to }), outages(st.from, st.to)]);
  const [svc, cc, svcPrev, ccPrev, series, p] = [o.ports, o.countries, o.previous_ports, o.previous_countries, o.series, o.previous];
  const iot = o.iot ? new Set(o.iot.services) : new Set();
  main.replaceChildren(el('h1', { text: `${t('overview')} ${st.from} – ${st.to}` }),
    cards([[t('total_packets'), num(series.total_packets), 'total-packets'], [t('total_sources'), num(series.total_sources), 'total-sources'],
      ...(o.iot ? [[t('iot_share').replace('%d', o.iot.top), pct(o.iot.share, 1), 'iot-share']] : []),
      [t('previous'), svcPrev.length ? `${p.from} – ${p.to}` : `${p.from} – ${p.to}: ${t('no_data')}`, 'previous-period']]));
  seriesChart(main, series, t('daily'), shade);
  await hourlyChart(main, st);
  const grid = el('div', { class: 'grid' });
  const svcCols = rankCols(t('service'), svcCell, byKey(svcPrev));
  svcCols.push({ key: 'iot', label: t('iot'), cell: (r) => (iot.has(r.key) ? 'IoT' : ''), csv: (r) => (iot.has(r.key) ? 1 : 0) });
  grid.append(table(t('top_services'), `services-${st.from}-${st.to}`, svcCols, svc, 'top-services'));
  grid.append(table(t('top_regions'), `regions-${st.from}-${st.to}`, rankCols(t('country'), ccCell({ service: '' }), byKey(ccPrev)), cc, 'top-regions'));
  main.append(grid);
}

// ---- a service: its series, regions, ASNs and sources (each a drill-down further)
export async function service(st, main) {
  const f = { from: st.from, to: st.to, service: st.service, country: st.country || undefined };
  const [series, cc, asn, src, sports, shade] = await Promise.all([
    api('series', f), api('top', { dim: 'countries', limit: 20, ...f }), api('top', { dim: 'asns', limit: 20, ...f }),
    api('top', { dim: 'sources', limit: 50, ...f }), api('cube', { by: 'sport', sources: 1, limit: 20, ...f }), outages(st.from, st.to),
  ]);
  const svc = st.service.toUpperCase();
  main.replaceChildren(el('div', { class: 'crumbs' }, drill(t('overview'), { view: 'overview', service: '', country: '' }), ' › ', svc,
    st.country ? ` › ${region(st.country)}` : ''),
  el('h1', { text: `${svc}${st.country ? ' ' + t('from_region') + ' ' + region(st.country) : ''}  ${st.from} – ${st.to}` }),
  cards([[t('total_packets'), num(series.total_packets), 'total-packets'], [t('total_sources'), num(series.total_sources), 'total-sources']]));
  seriesChart(main, series, t('daily'), shade);
  const grid = el('div', { class: 'grid' });
  grid.append(table(t('top_regions'), `regions-${st.service}`, rankCols(t('country'), ccCell({ view: 'service', service: st.service })), cc, 'top-regions'));
  grid.append(table(t('top_asns'), `asns-${st.service}`, rankCols(t('asn'), asnCell), asn, 'top-asns'));
  grid.append(table(t('source_ports'), `sports-${st.service}`, sportCols(sports.total_packets),
    sports.cells.map((c, i) => Object.assign({ key: String(c.sport), rank: i + 1 }, c)), 'source-ports'));
  main.append(grid);
  main.append(table(t('top_sources'), `sources-${st.service}`, sourceCols(), src, 'top-sources'));
}

// /api/v1/cube?by=sport cells: the source port of (source, service) pairs that kept one port all
// day, "various" for the others (the report's focus section "source ports")
function sportCols(total) {
  return [
    { key: 'rank', label: t('rank'), num: true },
    { key: 'sport', label: t('sport'), cell: (r) => (r.sport === 'various' ? t('various') : String(r.sport)) },
    { key: 'packets', label: t('packets'), num: true, cell: (r) => num(r.packets) },
    { key: 'share', label: t('share'), num: true, cell: (r) => pct(total ? r.packets / total : 0), csv: (r) => (total ? (r.packets / total).toFixed(6) : '') },
    { key: 'sources', label: t('sources'), num: true, cell: (r) => num(r.sources) },
  ];
}

function sourceCols() {
  return [
    { key: 'rank', label: t('rank'), num: true },
    { key: 'key', label: t('source'), cell: srcCell },
    { key: 'packets', label: t('packets'), num: true, cell: (r) => num(r.packets) },
    { key: 'share', label: t('share'), num: true, cell: (r) => pct(r.share) },
    { key: 'country', label: t('country'), cell: (r) => `${region(r.country)} (${r.country})` },
    { key: 'asn', label: t('asn'), cell: (r) => `AS${r.asn}${r.org ? ' ' + r.org : ''}` },
    { key: 'days', label: t('days'), num: true },
    { key: 'first_seen', label: t('first_seen') },
    { key: 'last_seen', label: t('last_seen') },
  ];
}

// ---- a region: its series, services and ASNs (when reached from a service, within it)
export async function regionView(st, main) {
  if (st.service) return service(st, main);
  const f = { from: st.from, to: st.to, country: st.country };
  const [series, svc, asn, shade] = await Promise.all([
    api('series', f), api('top', { dim: 'ports', limit: 20, ...f }), api('top', { dim: 'asns', limit: 20, ...f }), outages(st.from, st.to),
  ]);
  main.replaceChildren(el('div', { class: 'crumbs' }, drill(t('overview'), { view: 'overview', country: '' }), ' › ', region(st.country)),
    el('h1', { text: `${region(st.country)} (${st.country})  ${st.from} – ${st.to}` }),
    cards([[t('total_packets'), num(series.total_packets), 'total-packets'], [t('total_sources'), num(series.total_sources), 'total-sources']]));
  seriesChart(main, series, t('daily'), shade);
  const grid = el('div', { class: 'grid' });
  grid.append(table(t('top_services'), `services-${st.country}`,
    rankCols(t('service'), (r) => drill(r.key.toUpperCase(), { view: 'service', service: r.key, country: st.country })), svc, 'top-services'));
  grid.append(table(t('top_asns'), `asns-${st.country}`, rankCols(t('asn'), asnCell), asn, 'top-asns'));
  main.append(grid);
}

function eventCols() {
  return [
    { key: 'type', label: t('type'), cell: (e) => e.type + (e.tool ? ` (${e.tool})` : '') },
    { key: 'start', label: t('start') },
    { key: 'end', label: t('end') },
    { key: 'service', label: t('service'), cell: (e) => (e.service ? drill(e.service.toUpperCase(), { view: 'service', service: e.service, country: '', ev: '', type: '' }) : '—') },
    { key: 'country', label: t('country'), cell: (e) => (e.country ? region(e.country) : '—') },
    { key: 'sources', label: t('sources'), num: true, cell: (e) => num(e.sources) },
    { key: 'packets', label: t('packets'), num: true, cell: (e) => num(e.packets) },
    { key: 'summary', label: t('summary'), wrap: true, cell: (e) => e.summary[getLang()], csv: (e) => e.summary[getLang()] },
  ];
}

// rows of /api/v1/payloads (`darkscope payloads --format json`): the first data a scanner sent
// after a sensor's SYN-ACK (sensor --respond syn)
function payloadCols() {
  return [
    { key: 'time', label: t('time') },
    { key: 'sensor', label: t('sensor') },
    { key: 'sport', label: t('sport'), num: true },
    { key: 'destination', label: t('destination') },
    { key: 'service', label: t('service'), cell: (p) => drill(p.service.toUpperCase(), { view: 'service', service: p.service, country: '', addr: '' }) },
    { key: 'len', label: t('len'), num: true },
    { key: 'excerpt', label: t('excerpt'), wrap: true, cell: (p) => el('code', { text: p.excerpt }) },
  ];
}

// ---- a source: its row, services, daily packets and the events that name it
export async function source(st, main) {
  const d = await api('source/' + encodeURIComponent(st.addr), { from: st.from, to: st.to });
  const row = d.source[0];
  const crumbs = el('div', { class: 'crumbs' }, drill(t('overview'), { view: 'overview', service: '', country: '', addr: '' }));
  if (st.service) crumbs.append(' › ', drill(st.service.toUpperCase(), { view: 'service', addr: '' }));
  crumbs.append(' › ', st.addr);
  main.replaceChildren(crumbs,
  el('h1', { id: 'source-address', text: `${t('source')} ${st.addr}` }),
  row ? cards([[t('packets'), num(row.packets), 'source-packets'], [t('country'), `${region(row.country)} (${row.country})`],
    [t('asn'), `AS${row.asn}${row.org ? ' ' + row.org : ''}`], [t('days'), String(row.days)],
    [t('first_seen'), row.first_seen], [t('last_seen'), row.last_seen]]) : el('p', { class: 'muted', text: t('none') }));
  const c = el('div', { class: 'chart' });
  main.append(el('h2', { text: t('timeline') }), c);
  chart(c, d.days.points.map((p) => p.t), [{ label: t('packets'), values: d.days.points.map((p) => p.packets) }], { height: 200 });
  main.append(table(t('services_of'), `source-${st.addr}-services`, rankCols(t('service'), svcCell), d.services, 'source-services'));
  main.append(table(t('events_of'), `source-${st.addr}-events`, eventCols(), d.events || [], 'source-events'));
  if (d.payloads === null) main.append(el('h2', { text: t('payloads_of') }), el('p', { class: 'muted', id: 'source-payloads', text: t('no_payloads') }));
  else main.append(table(t('payloads_of'), `source-${st.addr}-payloads`, payloadCols(), d.payloads.map((p) => Object.assign({ key: p.ts_ns }, p)), 'source-payloads'));
}

// ---- events, filtered by type (the API's), service and region (of the list the API gave): a
// timeline of the events active each day, by type, the table, and one event's evidence (ev=N:
// its place in the API's answer, which is ordered by content, so a link keeps it)
function filterSelect(id, field, label, values, current, show) {
  const sel = el('select', { id, onchange: (e) => { location.hash = linkTo({ [field]: e.target.value, ev: '' }).slice(1); } },
    el('option', { value: '', text: label }));
  for (const x of values.concat(current && !values.includes(current) ? [current] : [])) {
    const o = el('option', { value: x, text: show(x) });
    if (x === current) o.selected = true;
    sel.append(o);
  }
  return sel;
}

const DAY = 86400;
const dayOf = (iso) => Math.floor(Date.parse(iso) / 1000 / DAY) * DAY;   // an event's UTC day

// Events active each day of the period (an event spans its start's to its end's UTC day), one
// line per type present.
function timeline(box, st, shown) {
  const d0 = xOf(st.from), d1 = xOf(st.to), days = [];
  for (let d = d0; d <= d1; d += DAY) days.push(new Date(d * 1000).toISOString().slice(0, 10));
  const types = [...new Set(shown.map((e) => e.type))].sort();
  const series = types.map((ty) => {
    const v = days.map(() => 0);
    for (const e of shown.filter((x) => x.type === ty)) {
      const a = Math.max(d0, dayOf(e.start)), b = Math.min(d1, dayOf(e.end));
      for (let d = a; d <= b; d += DAY) v[(d - d0) / DAY]++;
    }
    return { label: ty, values: v };
  });
  const c = el('div', { class: 'chart', id: 'events-timeline' });
  c.dataset.events = String(shown.length);
  box.append(el('h2', { text: t('timeline_events') }), c);
  if (series.length) chart(c, days, series, { height: 220 });
  else c.append(el('p', { class: 'muted', text: t('none') }));
}

// One event: its sentence, its evidence, its top sources and its chart: the daily series the
// detector saw (the report's figure of it, `series` in the events JSON) or, for an event without
// one, the daily packets of its service or region over the period with its span shaded.
async function evidence(box, st, e) {
  const sec = el('section', { id: 'event-detail', class: 'event' });
  const subject = [e.service ? e.service.toUpperCase() : '', e.country ? region(e.country) : ''].filter((x) => x).join(' · ');
  sec.append(el('h2', { text: `${e.type}${e.tool ? ' (' + e.tool + ')' : ''}${subject ? ' — ' + subject : ''}` }),
    el('p', { class: 'muted', text: `${e.start} – ${e.end}` }), el('p', { id: 'event-summary', text: e.summary[getLang()] }));
  const c = el('div', { class: 'chart', id: 'event-chart' });
  if (e.series) {
    const start = xOf(e.series.from), days = e.series.values.map((_, i) => new Date((start + i * DAY) * 1000).toISOString().slice(0, 10));
    sec.append(el('h3', { text: t('evidence_series') + ` (${e.series.what})` }), c);
    c.dataset.source = 'event';
    c.dataset.sum = String(e.series.values.reduce((a, v) => a + (v === null ? 0 : v), 0));
    chart(c, days, [{ label: e.series.what, values: e.series.values }], { height: 200, shade: [[dayOf(e.start), dayOf(e.end) + DAY]] });
  } else if (e.service || e.country) {
    const s = await api('series', { from: st.from, to: st.to, service: e.service || undefined, country: e.country || undefined });
    sec.append(el('h3', { text: `${t('daily')} — ${subject}` }), c);
    c.dataset.source = 'series';
    c.dataset.sum = String(s.total_packets);
    chart(c, s.points.map((p) => p.t), [{ label: t('packets'), values: s.points.map((p) => p.packets) }],
      { height: 200, shade: [[dayOf(e.start), dayOf(e.end) + DAY]] });
  }
  const ev = Object.entries(e.evidence).map(([k, v]) => ({ key: k, value: typeof v === 'object' ? v.value : v, of: typeof v === 'object' ? v.of : '' }));
  const grid = el('div', { class: 'grid' });
  grid.append(table(t('evidence'), `event-evidence`, [{ key: 'key', label: t('measure') }, { key: 'value', label: t('value'), num: true },
    { key: 'of', label: t('of') }], ev, 'event-evidence'));
  grid.append(table(t('top_sources'), 'event-sources', [
    { key: 'address', label: t('source'), cell: (r) => drill(r.address, { view: 'source', addr: r.address, ev: '' }) },
    { key: 'country', label: t('country'), cell: (r) => `${region(r.country)} (${r.country})` },
    { key: 'asn', label: t('asn'), cell: (r) => `AS${r.asn}` },
    { key: 'packets', label: t('packets'), num: true, cell: (r) => num(r.packets) },
  ], e.top_sources.map((r) => Object.assign({ key: r.address }, r)), 'event-sources'));
  sec.append(grid);
  box.append(sec);
}

export async function events(st, main) {
  const ev = await api('events', { from: st.from, to: st.to, type: st.type || undefined });
  ev.forEach((e, i) => { e.idx = i; });
  const uniq = (f) => [...new Set(ev.map(f).filter((x) => x))].sort();
  const shown = ev.filter((e) => (!st.service || e.service === st.service) && (!st.country || e.country === st.country));
  main.replaceChildren(el('h1', { text: `${t('events')} ${st.from} – ${st.to}` }), el('div', { class: 'filters' },
    filterSelect('event-type', 'type', t('all_types'), uniq((e) => e.type), st.type, (x) => x),
    filterSelect('event-service', 'service', t('all_services'), uniq((e) => e.service), st.service, (x) => x.toUpperCase()),
    filterSelect('event-country', 'country', t('all_regions'), uniq((e) => e.country), st.country, (x) => `${region(x)} (${x})`)));
  timeline(main, st, shown);
  const sel = st.ev !== '' ? ev[Number(st.ev)] : null;
  if (sel) await evidence(main, st, sel);
  const cols = [{ key: 'idx', label: '', cell: (e) => drill(e.idx === (sel && sel.idx) ? '●' : '○', { ev: String(e.idx) }, 'drill ev-open'), csv: (e) => e.idx }]
    .concat(eventCols());
  main.append(table(t('events'), `events-${st.from}-${st.to}`, cols, shown.map((e) => Object.assign({ key: String(e.idx) }, e)), 'events-table'));
}

// ---- sensors: counts and coverage (stats), live health (collector)
export async function sensors(st, main) {
  const [cov, health] = await Promise.all([api('coverage'), api('sensors')]);
  main.replaceChildren(el('h1', { text: t('sensors') }));
  main.append(table(t('coverage'), 'coverage', [
    { key: 'sensor', label: t('sensor') },
    { key: 'packets', label: t('packets'), num: true, cell: (r) => num(r.packets) },
    { key: 'first', label: t('first_seen') },
    { key: 'last', label: t('last_seen') },
    { key: 'covered_days', label: t('covered_days'), num: true, cell: (r) => (r.covered_days === null ? '—' : `${r.covered_days.toFixed(2)} / ${r.days}`) },
    { key: 'outages', label: t('outages'), num: true, cell: (r) => String(r.outages.length), csv: (r) => r.outages.length },
    { key: 'silent_s', label: t('silent'), num: true, cell: (r) => (r.silent_s === null ? '—' : `${Math.round(r.silent_s / 60)} min`) },
  ], cov.map((r) => Object.assign({ key: r.sensor }, r)), 'coverage-table'));
  if (cov.length) main.append(el('p', { class: 'muted', text: `${t('timezone')} ${cov[0].timezone}` }));
  if (!health.length) { main.append(el('h2', { text: t('health') }), el('p', { class: 'muted', text: t('no_live') })); return; }
  main.append(table(t('health'), 'sensor-health', [
    { key: 'sensor', label: t('sensor') },
    { key: 'last_upload', label: t('last_upload'), cell: (r) => (r.last_upload ? new Date(r.last_upload * 1000).toISOString().replace('.000', '') : '—') },
    { key: 'lag_s', label: t('lag'), num: true, cell: (r) => (r.lag_s < 0 ? '—' : `${Math.round(r.lag_s)} s`) },
    { key: 'segments', label: t('segments'), num: true, cell: (r) => num(r.segments) },
    { key: 'packets', label: t('packets'), num: true, cell: (r) => num(r.packets) },
    { key: 'kernel_drops', label: t('drops'), num: true, cell: (r) => num(r.kernel_drops) },
    { key: 'spool_bytes', label: t('spool'), num: true, cell: (r) => num(r.spool_bytes) },
  ], health.map((r) => Object.assign({ key: r.sensor }, r)), 'health-table'));
}
