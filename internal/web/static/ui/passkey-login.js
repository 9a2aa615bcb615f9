// passkey-login.js: "Sign in with a passkey" under the login form, shown
// when the server offers passkeys (GET /login/passkey) and the browser
// can use them. A passwordless sign-in names no user: the authenticator
// offers the passkeys it holds for this server.

import { api, ApiError, describe } from './api.js';
import * as webauthn from './webauthn.js';
import { factorUIs } from './mfa-login.js';

const $ = (id) => document.getElementById(id);

let offered = null; // the promise of the one GET /login/passkey

// offerPasskeyLogin adds the button once passkeys turn out to be on.
// signedIn(grant, sent) takes the grant of a finished sign-in, as the
// password form's does; sent is when the request left (ms).
export function offerPasskeyLogin(signedIn) {
  if (offered || !webauthn.supported() || !$('login-form')) return;
  offered = api('GET', '/login/passkey').then((st) => {
    if (st && st.enabled) addButton(signedIn);
  }, () => { /* only an offer: the password form works without it */ });
}

function addButton(signedIn) {
  const box = document.createElement('div');
  box.id = 'passkey-login';
  box.className = 'alt-login';
  const or = Object.assign(document.createElement('p'), { className: 'or', textContent: 'or' });
  const btn = Object.assign(document.createElement('button'), {
    type: 'button', id: 'login-passkey', className: 'secondary', textContent: 'Sign in with a passkey',
  });
  box.append(or, btn);
  $('login-form').after(box);
  btn.addEventListener('click', async () => {
    const err = $('login-error');
    err.classList.remove('info');
    err.textContent = '';
    btn.disabled = true;
    try {
      const options = await api('POST', '/login/passkey/begin');
      const credential = await webauthn.get(options);
      const sent = Date.now();
      const grant = await api('POST', '/login/passkey/finish', { credential, cookie: true });
      await signedIn(grant, sent);
    } catch (e) {
      if (e instanceof ApiError) {
        err.textContent = e.code === 'invalid_credentials'
          ? 'This passkey was not accepted. It may have been removed from your account.'
          : describe(e);
      } else {
        err.textContent = webauthn.problem(e) || describe(e);
      }
    } finally {
      btn.disabled = false;
    }
  });
}

// A passkey as the second step after the password: the mfa_required
// problem carries the options of navigator.credentials.get for the
// user's passkeys.
factorUIs.push((mfa, { finish, box }) => {
  if (!(mfa.factors || []).includes('webauthn') || !mfa.webauthn || !webauthn.supported()) return;
  const btn = Object.assign(document.createElement('button'), { type: 'button', id: 'mfa-passkey', className: 'secondary', textContent: 'Use a passkey' });
  btn.addEventListener('click', async () => {
    $('mfa-error').textContent = '';
    btn.disabled = true;
    try {
      await finish({ webauthn: await webauthn.get(mfa.webauthn) });
    } catch (e) {
      $('mfa-error').textContent = webauthn.problem(e) || describe(e);
    } finally {
      btn.disabled = false;
    }
  });
  box.append(btn);
});
