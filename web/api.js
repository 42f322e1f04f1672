// api.js: GET /api/v1/... with the reader's token (kept in this tab's sessionStorage only), and
// a token prompt when the API answers 401.  With `serve --users` the server's 401 asks for HTTP
// Basic: the browser shows its own name and password dialog and sends them with every request
// to this origin (credentials: 'same-origin'); the token prompt comes only if that is cancelled.
import { t } from './i18n.js';

function token() { return sessionStorage.getItem('darkscope-token') || ''; }

function askToken() {
  return new Promise((resolve) => {
    const dlg = document.getElementById('login');
    document.getElementById('login-text').textContent = t('login');
    const input = document.getElementById('token');
    input.value = '';
    dlg.addEventListener('close', () => {
      sessionStorage.setItem('darkscope-token', input.value.trim());
      resolve();
    }, { once: true });
    dlg.showModal();
  });
}

export class ApiError extends Error {}

// GET /api/v1/<path>?<params>: the parsed JSON; an ApiError with the server's message otherwise.
export async function api(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const url = '/api/v1/' + path + (q.toString() ? '?' + q : '');
  for (let attempt = 0; attempt < 3; attempt++) {
    const headers = token() ? { Authorization: 'Bearer ' + token() } : {};
    const r = await fetch(url, { headers, credentials: 'same-origin', cache: 'no-store' });
    if (r.status === 401) { await askToken(); continue; }
    const body = await r.json().catch(() => null);
    if (!r.ok) throw new ApiError(body && body.error ? body.error : `HTTP ${r.status}`);
    return body;
  }
  throw new ApiError('unauthorized');
}
