// webauthn.js: WebAuthn ceremonies in the browser. The server sends the
// options of navigator.credentials.create/get as JSON with binary members
// in base64url (go-webauthn's encoding) and takes the credential back the
// same way.

// supported reports whether this browser can use passkeys at all.
export function supported() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

// fromB64u decodes base64url (padding optional) to an ArrayBuffer.
export function fromB64u(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

// toB64u encodes an ArrayBuffer (or view) as unpadded base64url.
export function toB64u(buf) {
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const withIDs = (list) => (list || []).map((c) => ({ ...c, id: fromB64u(c.id) }));

// create runs a registration with the options of
// POST /me/passkeys/register/begin and returns the credential as JSON.
export async function create(options) {
  const o = options.publicKey;
  const publicKey = {
    ...o,
    challenge: fromB64u(o.challenge),
    user: { ...o.user, id: fromB64u(o.user.id) },
    excludeCredentials: withIDs(o.excludeCredentials),
  };
  const cred = await navigator.credentials.create({ publicKey });
  const r = cred.response;
  return {
    id: cred.id,
    rawId: toB64u(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment || undefined,
    clientExtensionResults: cred.getClientExtensionResults(),
    response: {
      clientDataJSON: toB64u(r.clientDataJSON),
      attestationObject: toB64u(r.attestationObject),
      transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
    },
  };
}

// get runs an authentication with the options of a begin call
// (passwordless, or the webauthn member of an mfa_required problem) and
// returns the assertion as JSON.
export async function get(options) {
  const o = options.publicKey;
  const publicKey = { ...o, challenge: fromB64u(o.challenge), allowCredentials: withIDs(o.allowCredentials) };
  const cred = await navigator.credentials.get({ publicKey, mediation: options.mediation || undefined });
  const r = cred.response;
  return {
    id: cred.id,
    rawId: toB64u(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment || undefined,
    clientExtensionResults: cred.getClientExtensionResults(),
    response: {
      clientDataJSON: toB64u(r.clientDataJSON),
      authenticatorData: toB64u(r.authenticatorData),
      signature: toB64u(r.signature),
      userHandle: r.userHandle ? toB64u(r.userHandle) : undefined,
    },
  };
}

// cancelled reports whether err is the user closing the browser's
// passkey dialog (or its timing out): nothing to explain.
export function cancelled(err) {
  return err instanceof DOMException && (err.name === 'NotAllowedError' || err.name === 'AbortError');
}

// problem turns a failed ceremony into a sentence for the user.
export function problem(err) {
  if (cancelled(err)) return 'The passkey request was cancelled or timed out.';
  if (err instanceof DOMException && err.name === 'InvalidStateError') return 'This device already holds one of your passkeys.';
  if (err instanceof DOMException && err.name === 'SecurityError') return 'The browser refused: this page\'s address does not match the server\'s public URL.';
  return '';
}
