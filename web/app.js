// app.js: the dashboard's shell.  The view's whole state is the URL's hash
// (#view=service&service=23/tcp&from=2023-07-01&to=2023-07-31&lang=ja), so a link shows the
// same view to whoever opens it; the period picker, the language switch and every drill-down
// only change the hash, and a hashchange draws the view.
import { api } from './api.js';
import { setLang, getLang, t } from './i18n.js';
import * as V from './views.js';

const FIELDS = ['view', 'preset', 'from', 'to', 'lang', 'service', 'country', 'addr', 'type', 'ev'];
const VIEWS = { overview: V.overview, service: V.service, region: V.regionView, source: V.source, events: V.events, sensors: V.sensors };
let span = null;   // the store's first and last day with data, from /api/v1/span

function readState() {
  const h = new URLSearchParams(location.hash.slice(1));
  const st = {};
  for (const k of FIELDS) st[k] = h.get(k) || '';
  if (!VIEWS[st.view]) st.view = 'overview';
  if (!['day', 'week', 'month', 'quarter', 'custom'].includes(st.preset)) st.preset = st.from && st.to ? 'custom' : 'month';
  st.lang = st.lang === 'ja' ? 'ja' : 'en';
  return st;
}

function hashOf(st) {
  const h = new URLSearchParams();
  for (const k of FIELDS) if (st[k]) h.set(k, st[k]);
  return '#' + h.toString().replace(/%2F/g, '/');
}

let current = readState();
V.setLinker((change) => hashOf(Object.assign({}, current, change)));

function iso(d) { return d.toISOString().slice(0, 10); }
function day(s) { return new Date(s + 'T00:00:00Z'); }
// A preset's period, ending at the store's last day: the day, its week (7 days), its calendar
// month, its calendar quarter (as the published monthly and quarterly reports).  The server
// computes the same periods to have their overviews ready (ds_serve_presets, serve_api.c).
function presetPeriod(preset, last) {
  const d = day(last), y = d.getUTCFullYear(), m = d.getUTCMonth();
  if (preset === 'day') return { from: last, to: last };
  if (preset === 'week') { const f = day(last); f.setUTCDate(f.getUTCDate() - 6); return { from: iso(f), to: last }; }
  if (preset === 'quarter') return { from: iso(new Date(Date.UTC(y, m - (m % 3), 1))), to: last };
  return { from: iso(new Date(Date.UTC(y, m, 1))), to: last };
}

async function storeSpan() {
  if (span) return span;
  span = await api('span');
  return span;
}

function words() {
  for (const v of ['overview', 'events', 'sensors']) document.getElementById('nav-' + v).textContent = t(v);
  for (const o of document.querySelectorAll('#preset option')) o.textContent = t(o.value);
  document.getElementById('apply').textContent = t('apply');
  document.getElementById('lang').textContent = t('lang_other');
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('active', a.dataset.view === current.view || (a.dataset.view === 'overview' && ['service', 'region', 'source'].includes(current.view)));
    a.href = hashOf(Object.assign({}, current, { view: a.dataset.view, service: '', country: '', addr: '', type: '', ev: '' }));
  }
}

async function draw() {
  current = readState();
  setLang(current.lang);
  const main = document.getElementById('main');
  try {
    const s = await storeSpan();
    if (current.preset !== 'custom' || !current.from || !current.to) {
      const p = presetPeriod(current.preset === 'custom' ? 'month' : current.preset, s.last);
      if (current.from !== p.from || current.to !== p.to) {   // the hash says the period: a link keeps it
        location.replace(hashOf(Object.assign({}, current, p)));
        return;
      }
    }
    document.getElementById('preset').value = current.preset;
    document.getElementById('from').value = current.from;
    document.getElementById('to').value = current.to;
    words();
    main.setAttribute('aria-busy', 'true');
    await VIEWS[current.view](current, main);
  } catch (e) {
    main.replaceChildren();
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = e.message;
    main.append(p);
  } finally {
    main.setAttribute('aria-busy', 'false');
    document.body.dataset.view = current.view;
    document.body.dataset.ready = String(Date.now());
  }
}

document.getElementById('period').addEventListener('submit', (e) => {
  e.preventDefault();
  const from = document.getElementById('from').value, to = document.getElementById('to').value;
  location.hash = hashOf(Object.assign({}, current, { preset: 'custom', from, to })).slice(1);
});
document.getElementById('preset').addEventListener('change', (e) => {
  const preset = e.target.value;
  if (preset === 'custom') return;
  location.hash = hashOf(Object.assign({}, current, { preset, from: '', to: '' })).slice(1);
});
document.getElementById('lang').addEventListener('click', () => {
  location.hash = hashOf(Object.assign({}, current, { lang: getLang() === 'ja' ? 'en' : 'ja' })).slice(1);
});
window.addEventListener('hashchange', draw);
draw();
