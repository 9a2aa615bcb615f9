// signin.js: the login page's part in an OpenID Connect sign-in. The
// authorization endpoint sends a browser without a session to
// /?return=/oauth2/authorize?...; this page says which application asks,
// logs the user in as the UI does (cookies), then goes back to the
// authorization request, which redirects to the application.

import { api, call, describe, csrfToken } from './api.js';
import { passwordLogin } from './mfa-login.js';

const $ = (id) => document.getElementById(id);

const authorizePath = '/oauth2/authorize';

// flowReturn reads the return parameter of a page URL. Only a same-origin
// path /oauth2/authorize?... is accepted, so the page cannot be made to
// send a user anywhere else after logging in (an open redirect). It
// returns {url, clientId, fresh} or null.
export function flowReturn(loc) {
  const params = new URLSearchParams(loc.search);
  const ret = params.get('return');
  if (!ret || !ret.startsWith(authorizePath + '?') || /[\\\s#\u0000-\u001f\u007f]/.test(ret)) return null;
  let u;
  try {
    u = new URL(ret, loc.origin);
  } catch {
    return null;
  }
  if (u.origin !== loc.origin || u.pathname !== authorizePath) return null;
  return {
    url: u.pathname + u.search,
    clientId: u.searchParams.get('client_id') || '',
    fresh: params.get('prompt') === 'login',
  };
}

// startSignIn runs the page in sign-in mode for flow (from flowReturn).
export async function startSignIn(flow) {
  const go = () => { location.assign(flow.url); };
  $('loading').hidden = true;
  $('app-section').hidden = true;
  $('login-section').hidden = false;
  const who = $('login-client');
  who.hidden = false;
  who.textContent = 'An application asks you to sign in.';
  $('login-title').textContent = 'Sign in';
  if (flow.clientId) {
    api('GET', '/oauth2/client-info?client_id=' + encodeURIComponent(flow.clientId)).then((c) => {
      who.textContent = `${c.name} asks you to sign in.`;
      who.dataset.client = c.name;
    }, () => {});
  }
  // A browser whose access cookie expired but whose session lives on
  // goes straight back, unless the application asked for a fresh login.
  if (!flow.fresh && csrfToken()) {
    try {
      await call('GET', '/me');
      go();
      return;
    } catch { /* log in below */ }
  }
  $('login-username').focus();
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    const err = $('login-error');
    err.classList.remove('info');
    if (!username || !password) {
      err.textContent = 'Enter your username and password.';
      return;
    }
    const btn = $('login-submit');
    btn.disabled = true;
    err.textContent = '';
    try {
      await passwordLogin(username, password);
      $('login-password').value = '';
      err.classList.add('info');
      err.textContent = 'Signed in; returning to the application…';
      go();
    } catch (e) {
      err.textContent = e.code === 'cancelled' ? '' : describe(e);
      $('login-password').select();
      btn.disabled = false;
    }
  });
}
