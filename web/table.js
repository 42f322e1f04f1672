// table.js: a table with its CSV and JSON export (the rows as the API gave them).
import { t } from './i18n.js';

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled
function csvField(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

// cols: [{key, label, num, cell(row) -> text or Node, csv(row) -> value}]; rows: the API's rows.
// name: the export's file name.  Each <tr> gets data-key (the row's key) for the tests.
export function table(title, name, cols, rows, id) {
  const box = el('section', { class: 'table', id });
  const head = el('div', { class: 'tools' }, el('h2', { text: title }),
    el('button', { type: 'button', class: 'csv', text: t('csv'), onclick: () => {
      const lines = [cols.map((c) => csvField(c.key)).join(',')];
      for (const r of rows) lines.push(cols.map((c) => csvField(c.csv ? c.csv(r) : r[c.key])).join(','));
      download(name + '.csv', 'text/csv', lines.join('\r\n') + '\r\n');
    } }),
    el('button', { type: 'button', class: 'json', text: t('json'), onclick: () =>
      download(name + '.json', 'application/json', JSON.stringify(rows, null, 1) + '\n') }));
  box.append(head);
  if (!rows.length) { box.append(el('p', { class: 'muted', text: t('none') })); return box; }
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr', { 'data-key': r.key !== undefined ? r.key : '' });
    for (const c of cols) {
      const v = c.cell ? c.cell(r) : r[c.key];
      const td = el('td', { class: (c.num ? 'num ' : '') + (c.wrap ? 'wrap ' : '') + 'c-' + c.key });
      td.append(v instanceof Node ? v : document.createTextNode(v === undefined || v === null ? '—' : String(v)));
      tr.append(td);
    }
    tb.append(tr);
  }
  box.append(el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, ...cols.map((c) =>
    el('th', { class: c.num ? 'num' : '', text: c.label })))), tb)));
  return box;
}
