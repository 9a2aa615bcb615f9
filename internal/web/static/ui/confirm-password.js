// confirm-password.js: the dialog of the Security page that asks for the
// account's current password before a change that weakens a second
// factor (removing the authenticator app or a passkey, making new
// recovery codes): the server refuses those without it, so that a
// session alone cannot strip them.

import { ApiError, describe } from './api.js';

const $ = (id) => document.getElementById(id);

const dialog = $('password-dialog');
const form = $('password-dialog-form');
const input = $('password-dialog-input');
const error = $('password-dialog-error');
const submit = $('password-dialog-submit');

let pending = null; // { run, resolve, reject, opener }

// retry reports whether err is one the user can fix in the dialog: a
// wrong password, or too many of them (try again later).
const retry = (err) => err instanceof ApiError && (err.code === 'forbidden' || err.code === 'rate_limited');

// sentence makes the server's message (as "the current password is
// wrong") a sentence.
const sentence = (msg) => msg.charAt(0).toUpperCase() + msg.slice(1) + (/[.!?]$/.test(msg) ? '' : '.');

// close ends the dialog, gives the focus back to what opened it and
// settles its promise with settle(pending).
function close(settle) {
  const p = pending;
  pending = null;
  if (dialog.open) dialog.close();
  form.reset();
  error.textContent = '';
  if (!p) return;
  if (p.opener && p.opener.isConnected) p.opener.focus();
  settle(p);
}

// withPassword opens the dialog: what says what the password is for and
// action names the submit button. Each submit calls run(password): when
// it succeeds the dialog closes and { result } is returned; a wrong
// password (the server's message) or a rate limit is shown in the dialog
// for another try; any other error closes it and is thrown. Cancel
// returns null.
export function withPassword({ what, action, run }) {
  if (pending) close((p) => p.resolve(null));
  return new Promise((resolve, reject) => {
    pending = { run, resolve, reject, opener: document.activeElement };
    $('password-dialog-what').textContent = what;
    submit.textContent = action;
    form.reset();
    error.textContent = '';
    dialog.showModal();
    input.focus();
  });
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!pending) return;
  const password = input.value;
  if (!password) {
    error.textContent = 'Enter your current password.';
    input.focus();
    return;
  }
  error.textContent = '';
  submit.disabled = true;
  const p = pending;
  try {
    const result = await p.run(password);
    if (pending === p) close(() => p.resolve({ result }));
  } catch (e) {
    if (pending !== p) return;
    if (retry(e)) {
      error.textContent = e.code === 'forbidden' ? sentence(e.message) : describe(e);
      input.select();
    } else {
      close(() => p.reject(e));
    }
  } finally {
    submit.disabled = false;
  }
});

$('password-dialog-cancel').addEventListener('click', () => close((p) => p.resolve(null)));
// Escape closes a modal dialog: it is a cancel.
dialog.addEventListener('cancel', (ev) => {
  ev.preventDefault();
  close((p) => p.resolve(null));
});
document.addEventListener('jwtgate:session-out', () => close((p) => p.resolve(null)));
