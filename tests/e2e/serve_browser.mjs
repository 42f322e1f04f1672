// serve_browser.mjs BASE_URL DIR [SHOTS_DIR]: drive Debian's chromium through the dashboard
// (tests/e2e/serve_browser.sh makes the store and the CLI's JSON in DIR).
//
// In English and in Japanese: the overview (its IoT share the report's, its outages shaded, an
// hourly chart), the events (a timeline that follows the filters, an event's evidence chart
// equal to the CLI's series), a drill-down 23/TCP -> its regions, ASNs, source ports (the report's focus
// section's) and sources -> one source (with its first payloads), the events and the sensors; every number the tables show equals the CLI's
// (`darkscope top --format json`) for the same filters; the console has no error and no request
// goes anywhere but BASE_URL.  SHOTS_DIR: screenshots of the main views (English).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [BASE, DIR, SHOTS] = process.argv.slice(2);
const require = createRequire(path.join(process.env.DS_ROOT, 'build/web-test/package.json'));
const { chromium } = require('playwright-core');
const cli = (name) => JSON.parse(readFileSync(path.join(DIR, name + '.json'), 'utf8'));
const period = JSON.parse(readFileSync(path.join(DIR, 'period.json'), 'utf8'));

const problems = [];
function check(cond, what) { if (!cond) { problems.push(what); console.error('FAIL: ' + what); } }

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1360, height: 1000 }, acceptDownloads: true });
const page = await context.newPage();
const outside = [], consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('response', (r) => { if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`); });
page.on('request', (r) => {
  const u = r.url();
  if (!u.startsWith(BASE + '/') && !u.startsWith('blob:') && !u.startsWith('data:')) outside.push(u);
});

// Navigate (or click) and wait until the app has drawn the view.
async function settle(action) {
  const before = await page.evaluate(() => document.body.dataset.ready || '');
  await action();
  await page.waitForFunction((b) => document.body.dataset.ready && document.body.dataset.ready !== b &&
    document.getElementById('main').getAttribute('aria-busy') === 'false', before, { timeout: 20000 });
  const err = await page.$('#main > p.error');
  if (err) check(false, `error on ${page.url()}: ${await err.textContent()}`);
}

// The rows of table #id as [key, packets] with the page's "1,234" read back as numbers.
async function rows(id) {
  return page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => [tr.dataset.key,
    Number(tr.querySelector('td.c-packets').textContent.replace(/,/g, ''))]));
}
async function sameAsCli(id, name) {
  const got = await rows(id), want = cli(name).map((r) => [r.key, r.packets]);
  check(JSON.stringify(got) === JSON.stringify(want), `${id} vs ${name}: page ${JSON.stringify(got.slice(0, 3))}... cli ${JSON.stringify(want.slice(0, 3))}... (${got.length} vs ${want.length} rows)`);
}
async function shot(name) { if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `serve-${name}.png`), fullPage: false }); }

const P = `preset=custom&from=${period.from}&to=${period.to}`;
for (const lang of ['en', 'ja']) {
  await settle(() => page.goto(`${BASE}/#view=overview&${P}&lang=${lang}`));
  check(await page.textContent('#nav-overview') === (lang === 'ja' ? '概況' : 'Overview'), `${lang}: the navigation's language`);
  await sameAsCli('top-services', 'ports');
  await sameAsCli('top-regions', 'countries');
  // previous rank: the rank in June (`top ports` of the previous period)
  const prev = Object.fromEntries(cli('ports_prev').map((r) => [r.key, r.rank]));
  const ranks = await page.$$eval('#top-services tbody tr', (trs) => trs.map((tr) => [tr.dataset.key, tr.querySelector('td.c-prev_rank').textContent]));
  check(ranks.every(([k, r]) => r === (prev[k] ? String(prev[k]) : '—')), `${lang}: previous ranks ${JSON.stringify(ranks.slice(0, 3))}`);
  const total = Number((await page.textContent('#total-packets .v')).replace(/,/g, ''));
  check(total === cli('ports_all').reduce((a, r) => a + r.packets, 0), `${lang}: overview total ${total}`);
  check(await page.$$eval('.chart canvas', (c) => c.length) >= 1, `${lang}: overview has no chart`);
  // the IoT share: the report's (its "iot" over the same period), as a percentage with one decimal
  const iot = cli('report').iot;
  check(await page.textContent('#iot-share .v') === (100 * iot.share).toFixed(1) + '%', `${lang}: IoT share ${await page.textContent('#iot-share .v')} vs report ${iot.share}`);
  const iotRows = await page.$$eval('#top-services tbody tr', (trs) => trs.filter((tr) => tr.querySelector('td.c-iot').textContent === 'IoT').length);
  check(iotRows > 0 && iotRows <= iot.iot_services_in_top, `${lang}: ${iotRows} IoT services marked`);
  // coverage shading: every outage of `stats` that overlaps the period
  const a = Date.parse(`${period.from}T00:00:00Z`), b = Date.parse(`${period.to}T00:00:00Z`) + 86400e3;
  const nout = cli('stats').flatMap((r) => r.outages).filter((o) => Date.parse(o.to.replace(' ', 'T') + 'Z') > a && Date.parse(o.from.replace(' ', 'T') + 'Z') < b).length;
  check(nout > 0 && await page.getAttribute('#daily-chart', 'data-shaded') === String(nout), `${lang}: ${await page.getAttribute('#daily-chart', 'data-shaded')} outages shaded, stats has ${nout}`);
  check(await page.$$eval('#hourly-chart canvas', (c) => c.length) === 1, `${lang}: no hourly chart for a month`);
  await shot(lang === 'en' ? 'overview' : 'overview-ja');

  // drill-down: 23/TCP -> regions, ASNs, sources -> one source
  await settle(() => page.click('#top-services tr[data-key="23/tcp"] a.drill'));
  check(page.url().includes('view=service') && page.url().includes('service=23/tcp'), `${lang}: drill to 23/tcp: ${page.url()}`);
  await sameAsCli('top-regions', 'countries_23');
  await sameAsCli('top-asns', 'asns_23');
  await sameAsCli('top-sources', 'sources_23');
  // source ports: the report's focus section lists the top 5, the page the top 20 in the same order
  const sp = cli('report').focus[0].source_ports.map((x) => [x.port === null ? 'various' : String(x.port), x.packets]);
  const spPage = (await rows('source-ports')).slice(0, sp.length);
  check(sp.length > 0 && JSON.stringify(spPage) === JSON.stringify(sp), `${lang}: source ports ${JSON.stringify(spPage)} vs report ${JSON.stringify(sp)}`);
  if (lang === 'en') await shot('service-23-tcp');
  const addr = await page.getAttribute('#top-sources tbody tr:nth-child(2)', 'data-key');
  await settle(() => page.click('#top-sources tbody tr:nth-child(2) a.drill'));
  check(page.url().includes('view=source'), `${lang}: drill to a source: ${page.url()}`);
  check((await page.textContent('#source-address')).includes(addr), `${lang}: the source page names ${addr}`);
  const want = cli('sources_all').find((r) => r.key === addr);
  const got = Number((await page.textContent('#source-packets .v')).replace(/,/g, ''));
  check(want && got === want.packets, `${lang}: source ${addr}: page ${got} packets, cli ${want && want.packets}`);
  const svcSum = (await rows('source-services')).reduce((a, r) => a + r[1], 0);
  check(want && svcSum === want.packets, `${lang}: source ${addr}: services add up to ${svcSum}`);
  check(await page.$('#source-payloads') !== null, `${lang}: source ${addr}: no first-payloads section`);
  if (lang === 'en') await shot('source');

  // back to the service through the crumbs, then a region drill-down
  await settle(() => page.goBack());
  check(page.url().includes('view=service'), `${lang}: back: ${page.url()}`);

  await settle(() => page.goto(`${BASE}/#view=events&${P}&lang=${lang}`));
  const nev = await page.$$eval('#events-table tbody tr', (t) => t.length);
  check(nev === cli('events').length, `${lang}: ${nev} events on the page, ${cli('events').length} from the CLI`);
  check(await page.getAttribute('#events-timeline', 'data-events') === String(cli('events').length), `${lang}: the timeline's events`);
  check(await page.$$eval('#events-timeline canvas', (c) => c.length) === 1, `${lang}: no events timeline`);
  // an event's evidence: the daily series the detector saw (the events JSON's, the report's figure)
  const evs = cli('events'), withSeries = evs.findIndex((e) => e.series);
  if (withSeries >= 0) {
    await settle(() => page.click(`#events-table tr[data-key="${withSeries}"] a.ev-open`));
    const e = evs[withSeries];
    check(page.url().includes(`ev=${withSeries}`), `${lang}: the event in the URL: ${page.url()}`);
    check(await page.getAttribute('#event-chart', 'data-source') === 'event' &&
      Number(await page.getAttribute('#event-chart', 'data-sum')) === e.series.values.reduce((a, v) => a + (v === null ? 0 : v), 0),
      `${lang}: event ${withSeries}'s chart: ${await page.getAttribute('#event-chart', 'data-sum')}`);
    check(await page.textContent('#event-summary') === e.summary[lang], `${lang}: event ${withSeries}'s summary`);
    check(await page.$$eval('#event-chart canvas', (c) => c.length) === 1, `${lang}: event ${withSeries} has no chart`);
    if (lang === 'en') await shot('events');
  }
  // an event without one: its service's (region's) daily packets, as `top --where` counts them
  const plain = cli('ev_plain').index;
  await settle(() => page.click(`#events-table tr[data-key="${plain}"] a.ev-open`));
  const ptotal = cli('ev_plain_top').reduce((a, r) => a + r.packets, 0);
  check(await page.getAttribute('#event-chart', 'data-source') === 'series' && Number(await page.getAttribute('#event-chart', 'data-sum')) === ptotal,
    `${lang}: event ${plain}'s series: ${await page.getAttribute('#event-chart', 'data-sum')} vs top ${ptotal}`);
  // the service filter keeps the events of that service only
  const svc = cli('events').map((e) => e.service).find((x) => x);
  if (svc) {
    await settle(() => page.selectOption('#event-service', svc));
    const n = await page.$$eval('#events-table tbody tr', (t) => t.length);
    check(page.url().includes('service=' + svc) && n === cli('events').filter((e) => e.service === svc).length,
      `${lang}: events of ${svc}: ${n} rows`);
    check(await page.getAttribute('#events-timeline', 'data-events') === String(n), `${lang}: the timeline follows the filter`);
  }
  await settle(() => page.goto(`${BASE}/#view=sensors&${P}&lang=${lang}`));
  const ns = await page.$$eval('#coverage-table tbody tr', (t) => t.length);
  check(ns === cli('stats').length, `${lang}: ${ns} sensors on the page`);
  if (lang === 'en') await shot('sensors');
}

// the language switch and the period presets keep the view in the URL
await settle(() => page.goto(`${BASE}/#view=overview&${P}&lang=en`));
await settle(() => page.click('#lang'));
check(page.url().includes('lang=ja') && await page.textContent('#nav-overview') === '概況', 'the language switch');
await settle(() => page.selectOption('#preset', 'week'));
check(page.url().includes('preset=week') && page.url().includes(`to=${period.last}`), `the week preset: ${page.url()}`);

// CSV export of a table
await settle(() => page.goto(`${BASE}/#view=overview&${P}&lang=en`));
const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#top-services button.csv')]);
const csv = readFileSync(await dl.path(), 'utf8').split('\r\n');
check(csv[0].startsWith('rank,key,packets,share,sources') && csv[1].startsWith(`1,${cli('ports')[0].key},${cli('ports')[0].packets},`),
  `CSV export: ${csv.slice(0, 2).join(' | ')}`);

check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
check(outside.length === 0, `requests that left the server: ${outside.join(' ')}`);
await browser.close();
if (problems.length) { console.error(`${problems.length} problems`); process.exit(1); }
console.log('serve_browser: all checks passed');
