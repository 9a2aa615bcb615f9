// api.js: calls to the jwtgate API from the browser pages.
//
// The pages use cookie mode: the access and refresh tokens are HttpOnly
// cookies this script never sees. Every state-changing request copies
// the readable CSRF cookie into the X-CSRF-Token header. A request
// that fails because the access token expired (or its cookie is gone) is
// retried once after a silent refresh.

// ApiError is a failed call: status 0 means the server was unreachable;
// code is the problem's stable code, data the whole problem (an
// mfa_required problem carries the mfa_token).
export class ApiError extends Error {
  constructor(status, code, message, retryAfter, data) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.data = data;
  }
}

// csrfCookies are the names of the CSRF cookie: with the __Host- prefix
// a server with Secure cookies sets, and without it, as a server run with
// --insecure-cookies sets it.
const csrfCookies = ['__Host-csrf_token', 'csrf_token'];

// csrfToken returns the CSRF cookie's value, or "".
export function csrfToken() {
  const jar = new Map();
  for (const part of document.cookie.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) jar.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  for (const name of csrfCookies) {
    if (jar.get(name)) return decodeURIComponent(jar.get(name));
  }
  return '';
}

const refreshListeners = new Set();
const endListeners = new Set();

// onRefresh calls fn(grant, receivedAt) after every successful refresh.
export function onRefresh(fn) { refreshListeners.add(fn); }

// onSessionEnd calls fn(error) when a refresh is refused: the session is over.
export function onSessionEnd(fn) { endListeners.add(fn); }

let inflight = null;

// refresh renews the access token with the refresh cookie. Concurrent
// callers share one request: the refresh token is single-use.
export function refresh() {
  if (!inflight) {
    inflight = send('POST', '/refresh').then(({ data }) => {
      const at = Date.now();
      for (const fn of refreshListeners) fn(data, at);
      return data;
    }, (err) => {
      if (err.status === 401 || err.status === 403) {
        for (const fn of endListeners) fn(err);
      }
      throw err;
    }).finally(() => { inflight = null; });
  }
  return inflight;
}

const writes = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// send makes one request and returns {data, date}: the JSON body (null
// for 204) and the server's Date header. It throws ApiError.
async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (writes.has(method)) {
    const t = csrfToken();
    if (t) headers['X-CSRF-Token'] = t;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'unreachable', 'Server unreachable: check the connection and try again.');
  }
  let data = null;
  if (res.status !== 204 && /json/.test(res.headers.get('Content-Type') || '')) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (!res.ok) {
    const code = (data && typeof data.code === 'string') ? data.code : 'http_' + res.status;
    const msg = (data && (data.detail || data.title)) || res.statusText || ('HTTP ' + res.status);
    const ra = parseInt(res.headers.get('Retry-After') || '', 10);
    throw new ApiError(res.status, code, msg, Number.isFinite(ra) ? ra : undefined, data);
  }
  return { data, date: res.headers.get('Date') };
}

const expiredCodes = new Set(['token_expired', 'token_missing']);

// call is api returning {data, date}.
export async function call(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (err) {
    if (err.status === 401 && expiredCodes.has(err.code) && !path.startsWith('/login') && csrfToken()) {
      await refresh(); // a refused refresh throws: the caller shows the login form
      return await send(method, path, body);
    }
    throw err;
  }
}

// api makes a request and returns its JSON body (null for 204).
export async function api(method, path, body) {
  return (await call(method, path, body)).data;
}

// describe turns an error into a sentence for the user.
export function describe(err) {
  if (!(err instanceof ApiError)) return 'Unexpected error: ' + (err && err.message ? err.message : String(err));
  const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : ' Try again in a moment.';
  switch (err.code) {
    case 'unreachable': return 'Server unreachable: check the connection and try again.';
    case 'invalid_credentials': return 'Wrong username or password.';
    case 'rate_limited': return 'Too many login attempts.' + wait;
    case 'busy': return 'The server is busy.' + wait;
    case 'unavailable': return 'The server cannot reach its database.' + wait;
    case 'forbidden': return 'Not allowed: ' + err.message;
    case 'csrf_failed': return 'Security check failed (CSRF token missing). Reload the page and log in again.';
    case 'refresh_invalid':
    case 'token_missing':
    case 'token_expired':
    case 'token_invalid':
    case 'token_revoked': return 'Your session has ended. Please log in again.';
    case 'conflict': return 'Already exists: ' + err.message;
    case 'mfa_code_invalid': return 'The code is wrong or was already used. Enter the current code.';
    case 'mfa_token_invalid': return 'The sign-in took too long or had too many wrong codes. Log in again.';
    case 'mfa_enrollment_required': return 'Your role requires a second factor: set one up on the Security page.';
    case 'mfa_required_by_role': return 'Your role requires a second factor: add another one before removing this one.';
    case 'mfa_unavailable': return 'Authenticator apps are not set up on this server. Tell its administrator.';
    default: return err.message;
  }
}

// isSessionEnd reports whether err means the user must log in again.
export function isSessionEnd(err) {
  return err instanceof ApiError && (err.status === 401 || err.code === 'csrf_failed');
}
