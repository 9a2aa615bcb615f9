// Runs the authorization code flow against jwtgate with openid-client, as
// a Node.js app would: discovery, PKCE + state + nonce, the code grant,
// userinfo, refresh, RP-initiated logout. The user is already logged in:
// the Go test passes the browser session's Cookie header. Reads its input
// as JSON on stdin and prints what it saw as JSON on stdout; the Go test
// asserts on it.
import * as client from 'openid-client';

const input = JSON.parse(await new Promise((resolve, reject) => {
  let s = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
  process.stdin.on('error', reject);
}));

const out = {};

// Requests the browser would make, with its cookies: follows redirects on
// the provider until one leaves for the client's redirect URI, which it
// returns without loading.
async function follow(start, stopAt) {
  let url = new URL(start);
  for (let i = 0; i < 10; i++) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: input.cookie } });
    const loc = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || !loc) {
      throw new Error(`${url} answered ${res.status} without a redirect: ${(await res.text()).slice(0, 300)}`);
    }
    url = new URL(loc, url);
    if (url.href.startsWith(stopAt)) {
      return url;
    }
  }
  throw new Error(`more than 10 redirects from ${start}`);
}

// http:// on loopback is the test's public URL; openid-client wants
// https unless told otherwise.
const config = await client.discovery(new URL(input.issuer), input.client_id, input.client_secret,
  undefined, { execute: [client.allowInsecureRequests] });
out.issuer = config.serverMetadata().issuer;

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authURL = client.buildAuthorizationUrl(config, {
  redirect_uri: input.redirect_uri,
  scope: 'openid profile offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
const callback = await follow(authURL, input.redirect_uri);
out.callback_state_ok = callback.searchParams.get('state') === state;

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
out.id_token_claims = claims;
out.scope = tokens.scope;
out.has_refresh_token = typeof tokens.refresh_token === 'string' && tokens.refresh_token.length > 0;

out.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
out.refreshed_sub = refreshed.claims()?.sub;
out.refresh_rotated = refreshed.refresh_token !== tokens.refresh_token;
out.refreshed_userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);

// A refresh token used twice is refused as the RFC 6749 error the library
// understands.
try {
  await client.refreshTokenGrant(config, tokens.refresh_token);
  out.reuse_error = null;
} catch (e) {
  out.reuse_error = e.error ?? String(e);
}

const logoutState = client.randomState();
const endSession = client.buildEndSessionUrl(config, {
  id_token_hint: refreshed.id_token ?? tokens.id_token,
  post_logout_redirect_uri: input.post_logout_redirect_uri,
  state: logoutState,
});
out.end_session_url = endSession.href;
const afterLogout = await follow(endSession, input.post_logout_redirect_uri);
out.logout_state_ok = afterLogout.searchParams.get('state') === logoutState;

process.stdout.write(JSON.stringify(out) + '\n');
