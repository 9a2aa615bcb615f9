// passkeys.js: the Passkeys section of the Security page: the user's
// passkeys (rename, remove) and "Add a passkey". It follows the session
// that session.js keeps (the jwtgate:session-in and -out events) and
// stays hidden on a server without passkeys.

import { api, describe, isSessionEnd } from './api.js';
import * as webauthn from './webauthn.js';
import { withPassword } from './confirm-password.js';

const $ = (id) => document.getElementById(id);

const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

function say(msg) { $('passkeys-status').textContent = msg; }
function fail(prefix, e) {
  if (isSessionEnd(e)) return;
  $('passkeys-error').textContent = prefix + (webauthn.problem(e) || describe(e));
}
function clear() {
  $('passkeys-error').textContent = '';
  say('');
}

function cell(label, text) {
  const td = document.createElement('td');
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

function button(text, className, label) {
  const b = Object.assign(document.createElement('button'), { type: 'button', className, textContent: text });
  b.setAttribute('aria-label', label);
  return b;
}

function render(p) {
  const tr = document.createElement('tr');
  tr.dataset.id = p.id;
  const name = cell('Name', p.name);
  name.className = 'passkey-name';
  tr.append(
    name,
    cell('Kind', p.synced ? 'Synced passkey' : 'Passkey on this device or a security key'),
    cell('Added', when(p.created_at)),
    cell('Last used', when(p.last_used_at)),
  );
  const actions = document.createElement('td');
  actions.dataset.label = 'Actions';
  const row = document.createElement('div');
  row.className = 'row-actions';
  const rename = button('Rename', 'secondary rename-passkey', `Rename the passkey ${p.name}`);
  const remove = button('Remove', 'danger remove-passkey', `Remove the passkey ${p.name}`);
  rename.addEventListener('click', () => startRename(p, name, rename));
  remove.addEventListener('click', () => removePasskey(p, tr));
  row.append(rename, remove);
  actions.append(row);
  tr.append(actions);
  return tr;
}

function show(list) {
  $('passkey-list').replaceChildren(...list.map(render));
  $('passkey-table').hidden = list.length === 0;
  $('passkeys-empty').hidden = list.length !== 0;
}

async function load() {
  try {
    const st = await api('GET', '/me/passkeys');
    $('passkeys').hidden = !st.enabled;
    if (!st.enabled) return;
    $('passkey-add').disabled = !webauthn.supported();
    if (!webauthn.supported()) $('passkeys-error').textContent = 'This browser cannot use passkeys.';
    show(st.passkeys);
  } catch (e) {
    fail('Could not load the passkeys: ', e);
  }
}

// startRename turns the name cell into a small form.
function startRename(p, td, btn) {
  clear();
  btn.disabled = true;
  const form = document.createElement('form');
  form.className = 'passkey-rename';
  form.noValidate = true;
  const input = Object.assign(document.createElement('input'), { value: p.name, maxLength: 64, required: true, autocomplete: 'off' });
  input.setAttribute('aria-label', `New name of the passkey ${p.name}`);
  const save = Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Save' });
  const cancel = Object.assign(document.createElement('button'), { type: 'button', className: 'secondary', textContent: 'Cancel' });
  form.append(input, save, cancel);
  td.replaceChildren(form);
  input.select();
  const done = (name) => {
    td.textContent = name;
    btn.disabled = false;
    btn.focus();
  };
  cancel.addEventListener('click', () => done(p.name));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    if (!name) {
      $('passkeys-error').textContent = 'Give the passkey a name.';
      input.focus();
      return;
    }
    save.disabled = true;
    try {
      await api('PATCH', `/me/passkeys/${encodeURIComponent(p.id)}`, { name });
      p.name = name;
      await load();
      say(`The passkey is now called ${name}.`);
      const b = document.querySelector(`#passkey-list tr[data-id="${CSS.escape(p.id)}"] .rename-passkey`);
      if (b) b.focus();
    } catch (e) {
      save.disabled = false;
      fail('Could not rename the passkey: ', e);
    }
  });
}

async function removePasskey(p, tr) {
  clear();
  try {
    // The modal dialog keeps the page, and this button, out of reach
    // meanwhile; it gives the focus back to the button when it closes.
    const done = await withPassword({
      what: `Removing the passkey ${p.name} needs your password.`,
      action: 'Remove the passkey',
      run: (pw) => api('DELETE', `/me/passkeys/${encodeURIComponent(p.id)}`, { current_password: pw }),
    });
    if (!done) return;
    tr.remove();
    const left = $('passkey-list').children.length;
    $('passkey-table').hidden = left === 0;
    $('passkeys-empty').hidden = left !== 0;
    say(`The passkey ${p.name} is removed. Remove it from the device or password manager too.`);
    $('passkey-add').focus();
  } catch (e) {
    if (e.code === 'mfa_required_by_role') {
      $('passkeys-error').textContent = 'Your role requires a second factor: add another one before removing this passkey.';
      return;
    }
    fail('Could not remove the passkey: ', e);
  }
}

$('passkey-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clear();
  const name = $('passkey-name').value.trim() || 'Passkey';
  const btn = $('passkey-add');
  btn.disabled = true;
  try {
    const options = await api('POST', '/me/passkeys/register/begin');
    const credential = await webauthn.create(options);
    await api('POST', '/me/passkeys/register/finish', { name, credential });
    $('passkey-form').reset();
    await load();
    say(`The passkey ${name} is added: use it to sign in.`);
  } catch (e) {
    fail('Could not add the passkey: ', e);
  } finally {
    btn.disabled = !webauthn.supported();
  }
});

document.addEventListener('jwtgate:session-in', load);
document.addEventListener('jwtgate:session-out', () => {
  $('passkeys').hidden = true;
  $('passkey-list').replaceChildren();
  $('passkey-form').reset();
  clear();
});
