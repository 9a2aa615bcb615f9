// session.js: the login form and the session panel, shared by the pages.
//
// It keeps the access token alive: the panel counts down to its expiry
// and a silent refresh runs when 20% of the lifetime or 10 s remain
// (whichever comes first, but never earlier than half-way).

import { ApiError, api, call, refresh, onRefresh, onSessionEnd, describe, isSessionEnd } from './api.js';
import { showNav } from './nav.js';
import { passwordLogin } from './mfa-login.js';
import { offerPasskeyLogin } from './passkey-login.js';

const $ = (id) => document.getElementById(id);

// refreshLead is how long before expiry to refresh, in ms.
export function refreshLead(lifetimeMs) {
  return Math.min(Math.max(0.2 * lifetimeMs, 10_000), 0.5 * lifetimeMs);
}

function formatLeft(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

// startSession wires the login form and the session panel. onIn(me) runs
// when a session starts (or is found on load), onOut() when it ends.
export function startSession({ onIn, onOut }) {
  let me = null;
  let expiresAt = 0; // local clock, ms
  let lifetime = 0; // ms
  let timer = 0;
  let ticker = 0;
  let refreshes = 0;

  const status = (msg) => { $('session-status').textContent = msg; };

  function showRefreshes() {
    $('refresh-count').textContent = String(refreshes);
    $('refresh-times').textContent = refreshes === 1 ? 'time' : 'times';
  }

  function setTiming(expMs, lifeMs) {
    expiresAt = expMs;
    lifetime = lifeMs > 0 ? lifeMs : Math.max(expMs - Date.now(), 1000);
    schedule();
    tick();
  }

  function schedule() {
    clearTimeout(timer);
    const wait = expiresAt - refreshLead(lifetime) - Date.now();
    timer = setTimeout(renew, Math.max(0, wait));
  }

  function tick() {
    const left = expiresAt - Date.now();
    const el = $('session-expiry');
    const at = new Date(expiresAt).toLocaleTimeString();
    el.textContent = left > 0 ? `expires in ${formatLeft(left)} (${at})` : 'expired';
    el.dataset.expiresAt = String(Math.round(expiresAt));
  }

  async function renew() {
    try {
      await refresh(); // onRefresh below updates the timing
      status('');
    } catch (err) {
      if (isSessionEnd(err)) return; // onSessionEnd shows the login form
      status('Could not renew the session: ' + describe(err) + ' Retrying…');
      clearTimeout(timer);
      timer = setTimeout(renew, 5000);
    }
  }

  onRefresh((grant, receivedAt) => {
    refreshes++;
    showRefreshes();
    if (grant && grant.expires_in > 0) {
      setTiming(receivedAt + grant.expires_in * 1000, grant.expires_in * 1000);
    }
  });

  onSessionEnd(() => showLogin('Your session has ended. Please log in again.'));

  // loadMe fetches the claims; timing=true takes the expiry from them.
  async function loadMe(timing) {
    const { data, date } = await call('GET', '/me');
    const first = me === null;
    me = data;
    $('session-name').textContent = me.name || me.sub;
    $('session-role').textContent = me.role;
    if (timing && typeof me.exp === 'number') {
      const serverNow = date ? Date.parse(date) : NaN;
      const now = Date.now();
      const left = me.exp * 1000 - (Number.isFinite(serverNow) ? serverNow : now);
      const life = typeof me.iat === 'number' ? (me.exp - me.iat) * 1000 : left;
      setTiming(now + left, life);
    }
    if (first) showApp();
    return me;
  }

  function showApp() {
    $('loading').hidden = true;
    $('login-section').hidden = true;
    if ($('first-run')) $('first-run').hidden = true;
    $('app-section').hidden = false;
    clearInterval(ticker);
    ticker = setInterval(tick, 1000);
    showNav(me);
    onIn(me);
    // Sections with their own modules (Security page) follow the session.
    document.dispatchEvent(new CustomEvent('jwtgate:session-in', { detail: me }));
  }

  // showFirstRun asks once whether the server has no user yet and, if so,
  // shows the command that creates the first admin (pages without the
  // #first-run box skip it).
  let firstRunAsked = false;
  async function showFirstRun() {
    const box = $('first-run');
    if (!box || firstRunAsked) return;
    firstRunAsked = true;
    try {
      const st = await api('GET', '/setup-status');
      if (st && st.first_run) {
        $('first-run-command').textContent = st.hint || 'jwtgate user add admin --role admin';
        box.hidden = false;
      }
    } catch {
      // Only a hint: the login form works without it.
    }
  }

  function showLogin(msg) {
    showFirstRun();
    offerPasskeyLogin(signedIn);
    const wasIn = me !== null;
    me = null;
    clearTimeout(timer);
    clearInterval(ticker);
    $('loading').hidden = true;
    $('app-section').hidden = true;
    $('login-section').hidden = false;
    showNav(null);
    $('login-error').textContent = msg || '';
    $('login-error').classList.toggle('info', !!msg && !/unreachable|error/i.test(msg));
    if (wasIn) {
      onOut();
      document.dispatchEvent(new CustomEvent('jwtgate:session-out'));
    }
    $('login-username').focus();
  }

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
      const sent = Date.now();
      const grant = await passwordLogin(username, password);
      $('login-password').value = '';
      await signedIn(grant, sent);
    } catch (e) {
      err.textContent = e.code === 'cancelled' ? '' : describe(e);
      $('login-password').select();
    } finally {
      btn.disabled = false;
    }
  });

  // signedIn shows the session a login (password or passkey) started;
  // sent is when its request left, for the token's expiry.
  async function signedIn(grant, sent) {
    // An admin set this password: the Security page has the user choose their own.
    if (grant.must_change_password && location.pathname !== '/security') {
      location.assign('/security');
      return;
    }
    refreshes = 0;
    showRefreshes();
    status('');
    const who = await loadMe(false);
    // The user's role requires a second factor they have not set up:
    // the session can do nothing else until they do, on the Security page.
    if (who.mfa_enroll && location.pathname !== '/security') {
      location.assign('/security');
      return;
    }
    setTiming(sent + grant.expires_in * 1000, grant.expires_in * 1000);
  }

  async function logout(all) {
    const btn = $(all ? 'logout-all' : 'logout');
    btn.disabled = true;
    try {
      await api('POST', all ? '/logout?all=1' : '/logout');
      showLogin(all ? 'You are logged out on every device.' : 'You are logged out.');
    } catch (e) {
      if (isSessionEnd(e)) showLogin('You are logged out.');
      else status('Logout failed: ' + describe(e));
    } finally {
      btn.disabled = false;
    }
  }
  $('logout').addEventListener('click', () => logout(false));
  $('logout-all').addEventListener('click', () => logout(true));

  // A sleeping tab may miss its timer: check when it becomes visible.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && me && Date.now() >= expiresAt - refreshLead(lifetime)) renew();
  });

  loadMe(true).catch((e) => {
    if (e instanceof ApiError && e.status === 401) showLogin('');
    else showLogin(describe(e));
  });

  return { me: () => me };
}
