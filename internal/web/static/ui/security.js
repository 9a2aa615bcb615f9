// security.js: the security page (GET /security): the user's password
// and sessions.
import { api, describe, isSessionEnd } from './api.js';
import { startSession } from './session.js';

const $ = (id) => document.getElementById(id);

const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

// browserName shortens a user agent to what a person recognises.
function browserName(ua) {
  if (!ua) return 'unknown';
  const m = /(Edg|OPR|Firefox|Chrome|Chromium|Version)\/[\d.]+/.exec(ua);
  const os = /Windows|Android|iPhone|iPad|Mac OS X|Linux|CrOS/.exec(ua);
  if (!m) return ua.length > 60 ? ua.slice(0, 60) + '…' : ua;
  const names = { Edg: 'Edge', OPR: 'Opera', Version: 'Safari' };
  const name = names[m[1]] || m[1];
  return os ? `${name} on ${os[0].replace('Mac OS X', 'macOS')}` : name;
}

function cell(label, text) {
  const td = document.createElement('td');
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

function renderSession(s) {
  const tr = document.createElement('tr');
  tr.dataset.id = s.id;
  if (s.current) tr.dataset.current = 'true';
  tr.append(
    cell('Started', when(s.created_at)),
    cell('Last renewed', when(s.last_refreshed_at)),
    cell('Address', s.client_ip || 'unknown'),
  );
  const ua = cell('Browser', s.client_id ? `Application ${s.client_id}` : browserName(s.user_agent));
  if (s.user_agent) ua.title = s.user_agent;
  tr.append(ua);
  const action = document.createElement('td');
  action.dataset.label = 'Action';
  if (s.current) {
    const b = document.createElement('span');
    b.className = 'badge';
    b.textContent = 'This session';
    action.append(b);
  } else {
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'danger end-session';
    btn.textContent = 'End';
    btn.setAttribute('aria-label', `End the session started ${when(s.created_at)} from ${s.client_ip || 'an unknown address'}`);
    btn.addEventListener('click', () => endSession(s, tr, btn));
    action.append(btn);
  }
  tr.append(action);
  return tr;
}

async function loadSessions() {
  $('sessions-error').textContent = '';
  try {
    const { sessions } = await api('GET', '/me/sessions');
    $('session-list').replaceChildren(...sessions.map(renderSession));
    $('end-others').disabled = !sessions.some((s) => !s.current);
  } catch (e) {
    if (!isSessionEnd(e)) $('sessions-error').textContent = 'Could not load the sessions: ' + describe(e);
  }
}

async function endSession(s, tr, btn) {
  btn.disabled = true;
  $('sessions-status').textContent = '';
  try {
    await api('DELETE', `/me/sessions/${encodeURIComponent(s.id)}`);
    tr.remove();
    $('sessions-status').textContent = 'The session has ended.';
    $('end-others').disabled = !document.querySelector('#session-list tr:not([data-current])');
    $('end-others').focus();
  } catch (e) {
    btn.disabled = false;
    $('sessions-error').textContent = 'Could not end the session: ' + describe(e);
  }
}

$('end-others').addEventListener('click', async () => {
  const btn = $('end-others');
  btn.disabled = true;
  $('sessions-status').textContent = '';
  try {
    await api('DELETE', '/me/sessions?others=true');
    $('sessions-status').textContent = 'You are logged out everywhere else.';
    await loadSessions();
  } catch (e) {
    btn.disabled = false;
    $('sessions-error').textContent = 'Could not end the other sessions: ' + describe(e);
  }
});

$('password-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const current = $('current-password').value;
  const next = $('new-password').value;
  const err = $('password-error');
  $('password-status').textContent = '';
  err.textContent = '';
  if (!current || !next) {
    err.textContent = 'Enter your current password and a new one.';
    return;
  }
  if (next.length < 8) {
    err.textContent = 'The new password needs at least 8 characters.';
    return;
  }
  if (next !== $('confirm-password').value) {
    err.textContent = 'The new password and its repetition differ.';
    $('confirm-password').select();
    return;
  }
  const btn = $('password-submit');
  btn.disabled = true;
  try {
    await api('POST', '/me/password', { current_password: current, new_password: next });
    $('password-form').reset();
    $('password-status').textContent = 'Your password has changed. Your other sessions have ended; this one stays.';
    await loadSessions();
  } catch (e) {
    err.textContent = e.code === 'rate_limited' ? 'Too many attempts. ' + describe(e).replace(/^Too many login attempts\. /, '') : describe(e);
    $('current-password').select();
  } finally {
    btn.disabled = false;
  }
});

startSession({
  onIn() { loadSessions(); },
  onOut() {
    $('session-list').replaceChildren();
    $('password-form').reset();
    $('password-status').textContent = '';
    $('sessions-status').textContent = '';
  },
});
