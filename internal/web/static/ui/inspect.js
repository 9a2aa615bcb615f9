// inspect.js: the token inspector (GET /inspect). Nothing typed here is
// sent anywhere; the only request it makes is the JWKS URL fetch the user
// asks for, which carries no cookies and not the token.
import { decode, verifySecret, verifyKeys, parseKeys, b64urlDecode } from './jwt.js';

const $ = (id) => document.getElementById(id);

export const EXAMPLE_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxMjMsInJvbGUiOiJhZG1pbiJ9.xiQIIxG93IoH5fEuP9BtFeqvJTGI9-XKcnVm0mrJsVc';
export const EXAMPLE_SECRET = 'my_super_secret_key';

let fetchedKeys = null; // keys from the JWKS URL
let seq = 0; // ignores the results of superseded verifications

function mode() { return document.querySelector('input[name=mode]:checked').value; }

function setVerdict(state, text) {
  const v = $('verdict');
  v.textContent = text;
  v.dataset.verdict = state; // valid, invalid, unchecked
  v.classList.toggle('valid', state === 'valid');
  v.classList.toggle('invalid', state === 'invalid');
}

function relative(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  let txt;
  if (s < 90) txt = `${s} s`;
  else if (s < 5400) txt = `${Math.round(s / 60)} min`;
  else if (s < 172800) txt = `${Math.round(s / 3600)} h`;
  else txt = `${Math.round(s / 86400)} days`;
  return ms >= 0 ? `in ${txt}` : `${txt} ago`;
}

function renderColored(parts) {
  const box = $('colored');
  box.replaceChildren();
  if (!parts) return;
  const cls = ['seg-h', 'seg-p', 'seg-s'];
  parts.forEach((p, i) => {
    if (i > 0) {
      const dot = document.createElement('span');
      dot.className = 'seg-dot';
      dot.textContent = '.';
      box.append(dot);
    }
    const span = document.createElement('span');
    span.className = cls[i] || 'seg-s';
    span.textContent = p;
    box.append(span);
  });
}

function renderTimes(payload) {
  const dl = $('claims-times');
  dl.replaceChildren();
  const notes = [];
  const now = Date.now();
  const names = { iat: 'issued at', nbf: 'not before', exp: 'expires' };
  for (const c of ['iat', 'nbf', 'exp']) {
    if (!(c in payload)) continue;
    const v = payload[c];
    const dt = document.createElement('dt');
    dt.textContent = c;
    dt.title = names[c];
    const dd = document.createElement('dd');
    if (typeof v === 'number' && Number.isFinite(v)) {
      const d = new Date(v * 1000);
      const time = document.createElement('time');
      time.dateTime = d.toISOString();
      time.textContent = `${d.toLocaleString()} (${relative(d - now)}) · ${d.toISOString()}`;
      dd.append(time);
      if (c === 'exp' && d <= now) notes.push(`Expired ${relative(d - now)}.`);
      if (c === 'nbf' && d > now) notes.push(`Not valid yet: starts ${relative(d - now)}.`);
    } else {
      dd.textContent = `${JSON.stringify(v)}: not a NumericDate (seconds since 1970)`;
      notes.push(`${c} is not a number.`);
    }
    dl.append(dt, dd);
  }
  if (!('exp' in payload)) notes.push('No exp claim: this token never expires.');
  $('time-note').textContent = notes.join(' ');
}

function secretBytes() {
  const s = $('secret').value;
  if ($('secret-b64').checked) return b64urlDecode(s.trim());
  return new TextEncoder().encode(s);
}

async function update() {
  const my = ++seq;
  const err = $('decode-error');
  let tok;
  try {
    tok = decode($('token').value);
    err.textContent = '';
  } catch (e) {
    const empty = $('token').value.trim() === '';
    err.textContent = empty ? '' : 'Cannot decode: ' + e.message;
    const raw = $('token').value.trim();
    renderColored(raw ? raw.split('.') : null);
    $('header-json').textContent = '';
    $('payload-json').textContent = '';
    $('claims-times').replaceChildren();
    $('time-note').textContent = '';
    setVerdict(empty ? 'unchecked' : 'invalid', empty ? 'Signature not checked' : 'Signature INVALID: the token is malformed');
    return;
  }
  renderColored(tok.parts);
  $('header-json').textContent = JSON.stringify(tok.header, null, 2);
  $('payload-json').textContent = JSON.stringify(tok.payload, null, 2);
  renderTimes(tok.payload);

  let r;
  try {
    switch (mode()) {
      case 'none':
        if (String(tok.header.alg).toLowerCase() === 'none') {
          setVerdict('invalid', 'Signature INVALID: alg "none" means unsigned and is never accepted');
        } else {
          setVerdict('unchecked', 'Signature not checked: choose a secret or keys above');
        }
        return;
      case 'secret':
        r = await verifySecret(tok, secretBytes());
        break;
      case 'jwks': {
        const text = $('jwks').value.trim();
        if (!text) { setVerdict('unchecked', 'Signature not checked: paste the keys'); return; }
        r = await verifyKeys(tok, parseKeys(text));
        break;
      }
      case 'url':
        if (!fetchedKeys) { setVerdict('unchecked', 'Signature not checked: fetch the keys'); return; }
        r = await verifyKeys(tok, fetchedKeys);
        break;
    }
  } catch (e) {
    r = { valid: false, reason: e.message || String(e) };
  }
  if (my !== seq) return;
  if (r.valid) setVerdict('valid', 'Signature valid' + (r.kid ? ` (key ${r.kid})` : ''));
  else setVerdict('invalid', 'Signature INVALID: ' + r.reason);
}

function showMode() {
  const m = mode();
  $('secret-box').hidden = m !== 'secret';
  $('jwks-box').hidden = m !== 'jwks';
  $('url-box').hidden = m !== 'url';
}

async function fetchKeys() {
  const st = $('url-status');
  fetchedKeys = null;
  let url;
  try {
    url = new URL($('jwks-url').value.trim(), location.href);
  } catch {
    st.textContent = 'That is not a URL.';
    return update();
  }
  if (url.origin !== location.origin) {
    st.textContent = `Not fetched: ${url.origin} is another site, and this page may only connect to ${location.origin}. Paste that JWKS document instead.`;
    return update();
  }
  st.textContent = 'Fetching…';
  try {
    const res = await fetch(url, { credentials: 'omit', cache: 'no-store', redirect: 'error', headers: { Accept: 'application/json' } });
    const text = await res.text();
    if (!res.ok) {
      let detail = '';
      try { detail = JSON.parse(text).detail || ''; } catch { /* not a problem document */ }
      st.textContent = `The server answered ${res.status}${detail ? ': ' + detail : ''}.`;
    } else {
      fetchedKeys = parseKeys(text);
      st.textContent = `Fetched ${fetchedKeys.length} key${fetchedKeys.length === 1 ? '' : 's'}.`;
    }
  } catch (e) {
    st.textContent = 'Could not fetch the keys: ' + (e.message || e);
  }
  return update();
}

let debounce = 0;
function later() {
  clearTimeout(debounce);
  setVerdict('pending', 'Checking…');
  debounce = setTimeout(update, 120);
}

$('token').addEventListener('input', later);
$('secret').addEventListener('input', later);
$('secret-b64').addEventListener('change', update);
$('jwks').addEventListener('input', later);
for (const r of document.querySelectorAll('input[name=mode]')) {
  r.addEventListener('change', () => { showMode(); update(); });
}
$('fetch-jwks').addEventListener('click', fetchKeys);
$('jwks-url').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); fetchKeys(); } });
$('example').addEventListener('click', () => {
  $('token').value = EXAMPLE_TOKEN;
  $('mode-secret').checked = true;
  $('secret').value = EXAMPLE_SECRET;
  $('secret-b64').checked = false;
  showMode();
  update();
});
$('clear').addEventListener('click', () => {
  $('token').value = '';
  update();
  $('token').focus();
});

if (!globalThis.crypto || !crypto.subtle) $('crypto-note').hidden = false;
showMode();
update();
