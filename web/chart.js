// chart.js: time series with uPlot (loaded by index.html from /static/, compiled into darkscope).
/* global uPlot */
import { t } from './i18n.js';

const COLORS = ['#0b5cad', '#d0641b', '#1e7b34', '#8e3b9e'];

// days: ['2023-07-01', ...] or ISO hours; series: [{label, values, scale}]
export function chart(container, xs, series, height = 260) {
  const x = xs.map((d) => Date.parse(d.length === 10 ? d + 'T00:00:00Z' : d) / 1000);
  const width = Math.max(320, container.clientWidth || 800);
  const opts = {
    width, height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    scales: { x: { time: true } },
    axes: [{}, { scale: 'a', size: 70 }].concat(series.some((s) => s.scale === 'b') ? [{ scale: 'b', side: 1, size: 60, grid: { show: false } }] : []),
    series: [{ label: t('date') }].concat(series.map((s, i) => ({ label: s.label, scale: s.scale || 'a', stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }))),
  };
  return new uPlot(opts, [x].concat(series.map((s) => s.values)), container);
}
