// admin.js: the users page (GET /admin), for admins, with the applications table (clients.js).
import { api, describe, isSessionEnd } from './api.js';
import { startSession } from './session.js';
import { loadClients, clearClients } from './clients.js';

const $ = (id) => document.getElementById(id);
let me = null;

function status(msg) {
  $('users-status').textContent = msg;
  $('user-form-error').textContent = '';
}
function fail(msg, e) {
  if (isSessionEnd(e)) return;
  $('users-error').textContent = msg + ': ' + describe(e);
}

const PAGE = 20;
let search = ''; // the search the table shows
let after = ''; // the cursor of the page shown ('' for the first)
let before = []; // the cursors of the pages before it
let next = ''; // the cursor of the page after it

function renderUser(u, i) {
  const tr = $('user-row-template').content.firstElementChild.cloneNode(true);
  tr.dataset.name = u.name;
  tr.querySelector('.user-name').textContent = u.name;
  const sel = tr.querySelector('.user-role');
  const id = `role-${i}`;
  sel.id = id;
  const label = tr.querySelector('.user-role-label');
  label.htmlFor = id;
  label.textContent = `Role of ${u.name}`;
  sel.value = u.role;
  // Saved on change: a select has no other meaning.
  sel.addEventListener('change', () => update(u, { role: sel.value }, `Role of ${u.name} is now ${sel.value}.`));
  const st = tr.querySelector('.user-status');
  st.textContent = u.disabled ? 'disabled' : (u.must_change_password ? 'must change password' : 'active');
  st.classList.toggle('off', u.disabled);
  const t = tr.querySelector('.user-created');
  t.dateTime = u.created_at;
  t.textContent = new Date(u.created_at).toLocaleDateString();
  const toggle = tr.querySelector('.user-toggle');
  toggle.textContent = u.disabled ? 'Enable' : 'Disable';
  toggle.setAttribute('aria-label', `${u.disabled ? 'Enable' : 'Disable'} ${u.name}`);
  toggle.addEventListener('click', () => update(u, { disabled: !u.disabled },
    `${u.name} is now ${u.disabled ? 'enabled' : 'disabled'}.`));
  const del = tr.querySelector('.user-delete');
  del.setAttribute('aria-label', `Delete ${u.name}`);
  del.addEventListener('click', () => remove(u, del));
  const end = tr.querySelector('.user-end');
  end.setAttribute('aria-label', `End all sessions of ${u.name}`);
  end.addEventListener('click', () => endSessions(u, end));
  const mfa = tr.querySelector('.user-mfa-reset');
  mfa.setAttribute('aria-label', `Reset second factors of ${u.name}`);
  mfa.addEventListener('click', () => resetMFA(u, mfa));
  const reset = tr.querySelector('.user-reset');
  const form = tr.querySelector('.user-reset-form');
  const pwField = tr.querySelector('.user-reset-password');
  pwField.id = `reset-${i}`;
  form.id = `reset-form-${i}`;
  tr.querySelector('.user-reset-label').htmlFor = pwField.id;
  reset.setAttribute('aria-label', `Set a new password for ${u.name}`);
  reset.setAttribute('aria-controls', form.id);
  reset.addEventListener('click', () => {
    form.hidden = !form.hidden;
    reset.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) pwField.focus();
  });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); setPassword(u, pwField, form, reset); });
  const sessBtn = tr.querySelector('.user-sessions');
  const panel = tr.querySelector('.user-sessions-panel');
  panel.id = `sessions-${i}`;
  sessBtn.setAttribute('aria-label', `Sessions of ${u.name}`);
  sessBtn.setAttribute('aria-controls', panel.id);
  sessBtn.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    sessBtn.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) loadSessions(u, panel);
  });
  if (me && u.name.toLowerCase() === me.name.toLowerCase()) {
    // The server refuses these for yourself; say so up front.
    toggle.disabled = true;
    del.disabled = true;
    sel.disabled = true;
    toggle.title = del.title = sel.title = 'You cannot demote, disable or delete yourself';
  }
  return tr;
}

// loadSessions lists a user's live sessions in panel, each with an End
// button.
async function loadSessions(u, panel) {
  $('users-error').textContent = '';
  try {
    const { sessions } = await api('GET', `/users/${encodeURIComponent(u.name)}/sessions`);
    const list = panel.querySelector('.user-sessions-list');
    list.replaceChildren(...sessions.map((s) => {
      const li = document.createElement('li');
      li.dataset.id = s.id;
      const what = s.client_id ? `application ${s.client_id}` : `${s.user_agent || 'unknown browser'}, ${s.client_ip || 'unknown address'}`;
      const since = document.createElement('time');
      since.dateTime = s.created_at;
      since.textContent = new Date(s.created_at).toLocaleString();
      li.append(`${what}, since `, since, ' ');
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'secondary user-session-end';
      end.textContent = 'End';
      end.setAttribute('aria-label', `End the session of ${u.name} since ${since.textContent}`);
      end.addEventListener('click', async () => {
        end.disabled = true;
        try {
          await api('DELETE', `/users/${encodeURIComponent(u.name)}/sessions/${encodeURIComponent(s.id)}`);
          status(`A session of ${u.name} ended.`);
          await loadSessions(u, panel);
        } catch (e) {
          end.disabled = false;
          fail(`Could not end the session of ${u.name}`, e);
        }
      });
      li.append(end);
      return li;
    }));
    panel.querySelector('.user-sessions-none').hidden = sessions.length > 0;
  } catch (e) {
    fail(`Could not load the sessions of ${u.name}`, e);
  }
}

async function loadUsers() {
  $('users-error').textContent = '';
  const q = new URLSearchParams({ q: search, limit: String(PAGE) });
  if (after) q.set('after', after);
  try {
    const page = await api('GET', `/users?${q}`);
    $('users-body').replaceChildren(...page.users.map(renderUser));
    $('users-empty').hidden = page.users.length > 0;
    next = page.next || '';
    $('users-next').disabled = !next;
    $('users-prev').disabled = before.length === 0;
  } catch (e) {
    fail('Could not load users', e);
  }
}

// firstPage shows the first page of the search in the box.
function firstPage() {
  search = $('user-search').value.trim();
  after = '';
  before = [];
  return loadUsers();
}

let searchTimer = 0;
$('user-search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(firstPage, 250);
});
$('user-search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearTimeout(searchTimer);
  firstPage();
});
$('users-next').addEventListener('click', () => {
  if (!next) return;
  before.push(after);
  after = next;
  loadUsers();
});
$('users-prev').addEventListener('click', () => {
  if (before.length === 0) return;
  after = before.pop();
  loadUsers();
});

async function update(u, change, done) {
  $('users-error').textContent = '';
  try {
    await api('PATCH', `/users/${encodeURIComponent(u.name)}`, change);
    status(done);
    await loadUsers();
  } catch (e) {
    fail(`Could not change ${u.name}`, e);
    await loadUsers();
  }
}

async function setPassword(u, field, form, toggle) {
  const password = field.value;
  $('users-error').textContent = '';
  if (password.length < 8) {
    $('users-error').textContent = `The new password of ${u.name} needs at least 8 characters.`;
    field.focus();
    return;
  }
  try {
    await api('POST', `/users/${encodeURIComponent(u.name)}/password`, { password });
    field.value = '';
    form.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    status(`${u.name} has a new password, to change at their next login; their sessions have ended.`);
    await loadUsers();
  } catch (e) {
    fail(`Could not set the password of ${u.name}`, e);
  }
}

async function endSessions(u, btn) {
  btn.disabled = true;
  $('users-error').textContent = '';
  try {
    await api('DELETE', `/users/${encodeURIComponent(u.name)}/sessions`);
    status(`Every session of ${u.name} has ended.`);
  } catch (e) {
    fail(`Could not end the sessions of ${u.name}`, e);
  } finally {
    btn.disabled = false;
  }
}

// resetMFA removes a user's authenticator app, recovery codes and
// passkeys (they lost them), which ends their sessions; two steps, as
// deleting.
async function resetMFA(u, btn) {
  if (btn.dataset.confirm !== 'yes') {
    btn.dataset.confirm = 'yes';
    btn.textContent = `Really reset second factors of ${u.name}?`;
    btn.setAttribute('aria-label', btn.textContent);
    return;
  }
  btn.disabled = true;
  $('users-error').textContent = '';
  try {
    await api('POST', `/users/${encodeURIComponent(u.name)}/mfa-reset`);
    status(`The second factors of ${u.name} are removed and their sessions have ended.`);
    btn.dataset.confirm = '';
    btn.textContent = 'Reset second factors';
    btn.setAttribute('aria-label', `Reset second factors of ${u.name}`);
  } catch (e) {
    fail(`Could not reset the second factors of ${u.name}`, e);
  } finally {
    btn.disabled = false;
  }
}

async function remove(u, btn) {
  if (btn.dataset.confirm !== 'yes') { // two steps instead of a modal dialog
    btn.dataset.confirm = 'yes';
    btn.textContent = `Really delete ${u.name}?`;
    return;
  }
  btn.disabled = true;
  $('users-error').textContent = '';
  try {
    await api('DELETE', `/users/${encodeURIComponent(u.name)}`);
    status(`${u.name} was deleted, with their posts.`);
    await loadUsers();
  } catch (e) {
    btn.disabled = false;
    fail(`Could not delete ${u.name}`, e);
  }
}

$('user-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const username = $('new-username').value.trim();
  const password = $('new-password').value;
  const role = $('new-role').value;
  const err = $('user-form-error');
  if (!username || password.length < 8) {
    err.textContent = 'Enter a username and a password of at least 8 characters.';
    return;
  }
  err.textContent = '';
  $('user-submit').disabled = true;
  try {
    await api('POST', '/users', { username, password, role });
    $('user-form').reset();
    status(`${username} was added as ${role}.`);
    await loadUsers();
    $('new-username').focus();
  } catch (e) {
    err.textContent = e.code === 'conflict' ? `A user called ${username} already exists.` : describe(e);
  } finally {
    $('user-submit').disabled = false;
  }
});

startSession({
  onIn(m) {
    me = m;
    const admin = m.role === 'admin';
    $('admins-only').hidden = admin;
    $('admin-area').hidden = !admin;
    if (admin) {
      firstPage();
      loadClients();
    }
  },
  onOut() {
    me = null;
    $('users-body').replaceChildren();
    clearClients();
    $('admin-area').hidden = true;
    $('admins-only').hidden = true;
    status('');
  },
});
