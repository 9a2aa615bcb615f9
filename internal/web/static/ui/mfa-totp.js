// mfa-totp.js: the authenticator-app (TOTP) and recovery-code section
// of the Security page. It follows the session that session.js keeps
// (the jwtgate:session-in and -out events).

import { api, refresh, describe } from './api.js';
import qrcode from './qrcode.js';
import { withPassword } from './confirm-password.js';

const $ = (id) => document.getElementById(id);

function say(msg) { $('totp-status').textContent = msg; }
function fail(e) { $('totp-error').textContent = describe(e); }

function showCodes(codes) {
  if (!codes || codes.length === 0) return;
  $('recovery-list').replaceChildren(...codes.map((c) => Object.assign(document.createElement('li'), { textContent: c })));
  $('recovery-box').hidden = false;
}

// group splits a base32 key in groups of four for typing.
const group = (s) => s.replace(/(.{4})/g, '$1 ').trim();

async function load() {
  $('totp-error').textContent = '';
  let st;
  try {
    st = await api('GET', '/me/mfa');
  } catch (e) {
    fail(e);
    return;
  }
  $('mfa-required-note').hidden = !(st.required_by_role && st.factors.length === 0);
  $('totp-state').textContent = st.totp
    ? 'An authenticator app is set up: logins ask for its code after the password.'
    : 'No authenticator app is set up: a password alone logs you in.';
  $('totp-begin').hidden = st.totp;
  $('totp-remove').hidden = !st.totp;
  const hasFactor = st.totp || st.webauthn;
  $('recovery-renew').hidden = !hasFactor;
  $('recovery-state').textContent = hasFactor
    ? `${st.recovery_codes_left} unused recovery code${st.recovery_codes_left === 1 ? '' : 's'} left.`
    : 'Recovery codes come with your first second factor.';
}

$('totp-begin').addEventListener('click', async () => {
  $('totp-error').textContent = '';
  say('');
  try {
    const en = await api('POST', '/me/mfa/totp');
    const qr = qrcode(0, 'M');
    qr.addData(en.otpauth_uri);
    qr.make();
    const img = document.createElement('img');
    img.src = qr.createDataURL(4, 8);
    img.alt = 'QR code of the authenticator app setup link';
    $('totp-qr').replaceChildren(img);
    $('totp-uri').href = en.otpauth_uri;
    $('totp-secret').textContent = group(en.secret);
    $('totp-enrol').hidden = false;
    $('totp-begin').hidden = true;
    $('totp-code').focus();
  } catch (e) {
    fail(e);
  }
});

$('totp-confirm-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('totp-error').textContent = '';
  const code = $('totp-code').value.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) {
    $('totp-error').textContent = 'Enter the 6-digit code the app shows.';
    return;
  }
  const btn = $('totp-confirm');
  btn.disabled = true;
  try {
    const { recovery_codes: codes } = await api('POST', '/me/mfa/totp/confirm', { code });
    $('totp-enrol').hidden = true;
    $('totp-confirm-form').reset();
    showCodes(codes);
    // This session has proved the factor: a refreshed token carries it.
    await refresh().catch(() => {});
    say('The authenticator app is set up.');
    await load();
  } catch (e) {
    fail(e);
    $('totp-code').select();
  } finally {
    btn.disabled = false;
  }
});

$('totp-remove').addEventListener('click', async () => {
  $('totp-error').textContent = '';
  say('');
  try {
    const done = await withPassword({
      what: 'Removing the authenticator app needs your password: without the app, logins no longer ask for its code.',
      action: 'Remove the authenticator app',
      run: (pw) => api('DELETE', '/me/mfa/totp', { current_password: pw }),
    });
    if (!done) return;
    say('The authenticator app is removed.');
    $('recovery-box').hidden = true;
    await load();
  } catch (e) {
    fail(e);
  }
});

$('recovery-renew').addEventListener('click', async () => {
  $('totp-error').textContent = '';
  say('');
  try {
    const done = await withPassword({
      what: 'Making new recovery codes needs your password: the old codes stop working.',
      action: 'Make new recovery codes',
      run: (pw) => api('POST', '/me/mfa/recovery', { current_password: pw }),
    });
    if (!done) return;
    showCodes(done.result.recovery_codes);
    say('New recovery codes are made; the old ones no longer work.');
    await load();
  } catch (e) {
    fail(e);
  }
});

document.addEventListener('jwtgate:session-in', load);
document.addEventListener('jwtgate:session-out', () => {
  $('totp-enrol').hidden = true;
  $('recovery-box').hidden = true;
  $('recovery-list').replaceChildren();
  $('totp-qr').replaceChildren();
  say('');
});
