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
  const save = tr.querySelector('.user-role-save');
  save.setAttribute('aria-label', `Save role of ${u.name}`);
  save.addEventListener('click', () => update(u, { role: sel.value }, `Role of ${u.name} is now ${sel.value}.`));
  const st = tr.querySelector('.user-status');
  st.textContent = u.disabled ? 'disabled' : 'active';
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
  if (me && u.name.toLowerCase() === me.name.toLowerCase()) {
    // The server refuses these for yourself; say so up front.
    toggle.disabled = true;
    del.disabled = true;
    toggle.title = del.title = 'You cannot disable or delete yourself';
  }
  return tr;
}

async function loadUsers() {
  $('users-error').textContent = '';
  try {
    const { users } = await api('GET', '/users');
    $('users-body').replaceChildren(...users.map(renderUser));
  } catch (e) {
    fail('Could not load users', e);
  }
}

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
      loadUsers();
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
