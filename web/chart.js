// chart.js: time series with uPlot (loaded by index.html from /static/, compiled into darkscope).
/* global uPlot */
import { t } from './i18n.js';

const COLORS = ['#0b5cad', '#d0641b', '#1e7b34', '#8e3b9e', '#b3261e', '#00838f', '#6d4c41', '#c2185b', '#827717', '#37474f', '#5e35b1'];
const SHADE = 'rgba(120, 120, 120, 0.22)';

// A day 'YYYY-MM-DD' or a time 'YYYY-MM-DD HH:MM:SS' / ISO as unix seconds on the chart's axis.
// Days and the store's local times are drawn as if UTC (the axis is labelled in UTC), so a local
// day and a local outage line up; ISO times with a Z are true UTC (the hourly series).
export function xOf(s) {
  if (s.length === 10) return Date.parse(s + 'T00:00:00Z') / 1000;
  if (s.length === 19 && s[10] === ' ') return Date.parse(s.replace(' ', 'T') + 'Z') / 1000;
  return Date.parse(s) / 1000;
}

// xs: days or ISO hours; series: [{label, values, scale}]; opt.shade: [[from, to], ...] in the
// axis's seconds, drawn under the lines (hours a sensor was out); opt.height.
export function chart(container, xs, series, opt = {}) {
  const x = xs.map(xOf);
  const width = Math.max(320, container.clientWidth || 800);
  const shade = opt.shade || [];
  const opts = {
    width, height: opt.height || 260,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    scales: { x: { time: true } },
    axes: [{}, { scale: 'a', size: 70 }].concat(series.some((s) => s.scale === 'b') ? [{ scale: 'b', side: 1, size: 60, grid: { show: false } }] : []),
    series: [{ label: t('date') }].concat(series.map((s, i) => ({ label: s.label, scale: s.scale || 'a', stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }))),
    hooks: {
      drawClear: [(u) => {
        if (!shade.length) return;
        const { ctx, bbox } = u;
        ctx.save();
        ctx.fillStyle = SHADE;
        for (const [a, b] of shade) {
          const x0 = Math.max(bbox.left, u.valToPos(a, 'x', true)), x1 = Math.min(bbox.left + bbox.width, u.valToPos(b, 'x', true));
          if (x1 > x0) ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
        }
        ctx.restore();
      }],
    },
  };
  container.dataset.shaded = String(shade.length);
  return new uPlot(opts, [x].concat(series.map((s) => s.values)), container);
}
