// clients.js: the applications (OAuth clients) table of the admin page.
import { api, describe, isSessionEnd } from './api.js';

const $ = (id) => document.getElementById(id);

function status(msg) {
  $('clients-status').textContent = msg;
  $('clients-error').textContent = '';
  $('client-form-error').textContent = '';
}

function fail(msg, e) {
  if (isSessionEnd(e)) return;
  $('clients-error').textContent = msg + ': ' + describe(e);
}

// showSecret shows a secret once; it is never fetched again.
function showSecret(name, secret) {
  $('client-secret-name').textContent = name;
  $('client-secret').textContent = secret;
  $('client-secret-box').hidden = false;
}

function lines(text) {
  return text.split('\n').map((s) => s.trim()).filter((s) => s !== '');
}

function renderClient(c) {
  const tr = $('client-row-template').content.firstElementChild.cloneNode(true);
  tr.dataset.id = c.client_id;
  tr.querySelector('.client-name').textContent = c.name;
  tr.querySelector('.client-id').textContent = c.client_id;
  tr.querySelector('.client-type').textContent = c.public ? 'public' : 'confidential';
  const uris = tr.querySelector('.client-uris');
  for (const u of c.redirect_uris) {
    const d = document.createElement('div');
    d.textContent = u;
    uris.append(d);
  }
  const rotate = tr.querySelector('.client-rotate');
  rotate.setAttribute('aria-label', `New secret for ${c.name}`);
  rotate.addEventListener('click', () => rotateSecret(c, rotate));
  const del = tr.querySelector('.client-delete');
  del.setAttribute('aria-label', `Delete ${c.name}`);
  del.addEventListener('click', () => remove(c, del));
  return tr;
}

export async function loadClients() {
  $('clients-error').textContent = '';
  try {
    const { clients } = await api('GET', '/clients');
    $('clients-body').replaceChildren(...clients.map(renderClient));
    // An empty table is no table: its headers would head nothing.
    $('clients-card').hidden = clients.length === 0;
    $('clients-none').hidden = clients.length > 0;
  } catch (e) {
    fail('Could not load applications', e);
  }
}

export function clearClients() {
  $('clients-body').replaceChildren();
  $('clients-card').hidden = true;
  $('clients-none').hidden = false;
  $('client-secret-box').hidden = true;
  $('client-secret').textContent = '';
  status('');
}

async function rotateSecret(c, btn) {
  if (btn.dataset.confirm !== 'yes') {
    btn.dataset.confirm = 'yes';
    btn.textContent = 'Replace the secret?';
    return;
  }
  btn.disabled = true;
  try {
    const r = await api('POST', `/clients/${encodeURIComponent(c.client_id)}/secret`);
    showSecret(c.name, r.client_secret);
    status(`${c.name} has a new secret; the old one no longer works.`);
    await loadClients();
  } catch (e) {
    btn.disabled = false;
    fail(`Could not replace the secret of ${c.name}`, e);
  }
}

async function remove(c, btn) {
  if (btn.dataset.confirm !== 'yes') {
    btn.dataset.confirm = 'yes';
    btn.textContent = `Really delete ${c.name}?`;
    return;
  }
  btn.disabled = true;
  try {
    await api('DELETE', `/clients/${encodeURIComponent(c.client_id)}`);
    if ($('client-secret-name').textContent === c.name) $('client-secret-box').hidden = true;
    status(`${c.name} was deleted; its sign-ins have ended.`);
    await loadClients();
  } catch (e) {
    btn.disabled = false;
    fail(`Could not delete ${c.name}`, e);
  }
}

$('client-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('new-client-name').value.trim();
  const redirectURIs = lines($('new-client-uris').value);
  const logoutURIs = lines($('new-client-logout-uris').value);
  const pub = $('new-client-public').checked;
  const err = $('client-form-error');
  if (!name || redirectURIs.length === 0) {
    err.textContent = 'Enter a name and at least one redirect URI.';
    return;
  }
  err.textContent = '';
  $('client-submit').disabled = true;
  try {
    const c = await api('POST', '/clients', {
      name, redirect_uris: redirectURIs, post_logout_redirect_uris: logoutURIs, public: pub,
    });
    $('client-form').reset();
    if (c.client_secret) showSecret(c.name, c.client_secret);
    else $('client-secret-box').hidden = true;
    status(`${c.name} was registered with client id ${c.client_id}.`);
    await loadClients();
  } catch (e) {
    err.textContent = describe(e);
  } finally {
    $('client-submit').disabled = false;
  }
});
