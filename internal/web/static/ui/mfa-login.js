// mfa-login.js: the second step of a login. POST /login answers 401
// mfa_required for a user with a second factor; this module shows a code
// form in place of the password form and completes the login with
// POST /login/mfa, which answers as /login would have (cookies).

import { api, ApiError, describe } from './api.js';

const $ = (id) => document.getElementById(id);

// factorUIs lets other modules offer their factor in the second step:
// each fn(mfa, {finish, box}) may add controls to box and call
// finish(body) with the rest of the /login/mfa body (for example
// {webauthn: assertion}). mfa is the mfa_required problem.
export const factorUIs = [];

// passwordLogin logs in with cookies and resolves with the grant, after
// the second step when the user has a factor. It rejects with the
// error of either step, or with an ApiError of code "cancelled" when the
// user goes back to the password form.
export async function passwordLogin(username, password) {
  try {
    return await api('POST', '/login', { username, password, cookie: true });
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'mfa_required' || !e.data || !e.data.mfa_token) throw e;
    return secondStep(e.data);
  }
}

function el(tag, props, ...children) {
  const n = Object.assign(document.createElement(tag), props);
  n.append(...children);
  return n;
}

// form builds the second-step form once, after the password form.
function form() {
  let f = $('mfa-form');
  if (f) return f;
  f = el('form', { id: 'mfa-form', noValidate: true, hidden: true });
  f.setAttribute('aria-labelledby', 'mfa-title');
  const code = el('input', { id: 'mfa-code', name: 'code', autocomplete: 'one-time-code', spellcheck: false, required: true });
  code.setAttribute('autocapitalize', 'none');
  f.append(
    el('h2', { id: 'mfa-title', className: 'mfa-title' }, 'Second step'),
    el('p', { id: 'mfa-hint', className: 'note' }),
    el('label', { htmlFor: 'mfa-code', id: 'mfa-code-label' }, 'Code'),
    code,
    el('div', { id: 'mfa-factors', className: 'buttons' }),
    el('div', { className: 'buttons' },
      el('button', { type: 'submit', id: 'mfa-submit' }, 'Verify'),
      el('button', { type: 'button', id: 'mfa-switch', className: 'secondary' }),
      el('button', { type: 'button', id: 'mfa-cancel', className: 'secondary' }, 'Cancel')),
    el('p', { id: 'mfa-error', className: 'error', role: 'alert' }),
  );
  $('login-form').after(f);
  return f;
}

function secondStep(mfa) {
  const f = form();
  const login = $('login-form');
  const factors = mfa.factors || [];
  const hasTOTP = factors.includes('totp');
  let recovery = !hasTOTP;
  const code = $('mfa-code');
  const sw = $('mfa-switch');
  const show = () => {
    $('mfa-hint').textContent = recovery
      ? 'Enter one of your recovery codes. Each code works once.'
      : 'Enter the 6-digit code from your authenticator app.';
    $('mfa-code-label').textContent = recovery ? 'Recovery code' : 'Code';
    code.inputMode = recovery ? 'text' : 'numeric';
    code.maxLength = recovery ? 24 : 6;
    code.value = '';
    sw.textContent = recovery ? 'Use the authenticator app' : 'Use a recovery code';
    sw.hidden = !hasTOTP || !factors.includes('recovery');
    code.focus();
  };
  login.hidden = true;
  f.hidden = false;
  $('mfa-error').textContent = '';
  $('mfa-factors').replaceChildren();
  return new Promise((resolve, reject) => {
    const ac = new AbortController();
    const done = (fn, v) => {
      ac.abort();
      f.hidden = true;
      login.hidden = false;
      fn(v);
    };
    const finish = async (body) => {
      const btn = $('mfa-submit');
      btn.disabled = true;
      $('mfa-error').textContent = '';
      try {
        done(resolve, await api('POST', '/login/mfa', { mfa_token: mfa.mfa_token, ...body }));
      } catch (e) {
        if (e instanceof ApiError && e.code === 'mfa_code_invalid') {
          $('mfa-error').textContent = describe(e);
          code.select();
        } else {
          done(reject, e); // the token is spent or the server failed: back to the password
        }
      } finally {
        btn.disabled = false;
      }
    };
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = code.value.trim();
      if (!v) {
        $('mfa-error').textContent = recovery ? 'Enter a recovery code.' : 'Enter the code from your app.';
        return;
      }
      finish(recovery ? { recovery_code: v } : { totp: v.replace(/\s+/g, '') });
    }, { signal: ac.signal });
    sw.addEventListener('click', () => { recovery = !recovery; show(); }, { signal: ac.signal });
    $('mfa-cancel').addEventListener('click', () => done(reject, new ApiError(0, 'cancelled', 'Login cancelled.')), { signal: ac.signal });
    for (const fn of factorUIs) fn(mfa, { finish, box: $('mfa-factors') });
    show();
  });
}
