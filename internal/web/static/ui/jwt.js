// jwt.js: decode a JWS compact token and verify its signature with
// WebCrypto, entirely in the browser. Used by the token inspector.

const B64URL = /^[A-Za-z0-9_-]*$/;

// b64urlEncode encodes bytes as unpadded base64url.
export function b64urlEncode(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// b64urlDecode decodes strict unpadded base64url (RFC 7515 section 2):
// no padding, no whitespace, no '+' or '/', and no stray bits in the last
// character, so each byte string has exactly one encoding.
export function b64urlDecode(s) {
  if (!B64URL.test(s)) throw new Error('is not base64url (only A-Z a-z 0-9 - _ allowed, no padding)');
  if (s.length % 4 === 1) throw new Error('has an impossible base64url length');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '=='.slice(0, (4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  if (b64urlEncode(bytes) !== s) throw new Error('is not canonical base64url (stray bits in the last character)');
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJSONSegment(bytes, what) {
  let text;
  try { text = utf8.decode(bytes); } catch { throw new Error(`the ${what} is not valid UTF-8`); }
  let v;
  try { v = JSON.parse(text); } catch (e) { throw new Error(`the ${what} is not JSON: ${e.message}`); }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`the ${what} is not a JSON object`);
  return v;
}

// decode splits and decodes a token. It throws an Error saying what is wrong.
export function decode(token) {
  const t = token.trim();
  if (t === '') throw new Error('paste a token');
  const parts = t.split('.');
  if (parts.length === 5) throw new Error('this has 5 segments: an encrypted token (JWE), which cannot be inspected without its key');
  if (parts.length !== 3) throw new Error(`this is not a JWT: expected three parts separated by dots; this has ${parts.length}`);
  const names = ['header', 'payload', 'signature'];
  const bytes = parts.map((p, i) => {
    try { return b64urlDecode(p); } catch (e) { throw new Error(`this is not a JWT: the ${names[i]} ${e.message}`); }
  });
  const header = parseJSONSegment(bytes[0], 'header');
  const payload = parseJSONSegment(bytes[1], 'payload');
  return {
    parts,
    header,
    payload,
    signature: bytes[2],
    signingInput: new TextEncoder().encode(parts[0] + '.' + parts[1]),
  };
}

// ALGS are the algorithms verify knows, with their WebCrypto parameters.
export const ALGS = {
  HS256: { kty: 'oct', hash: 'SHA-256' },
  HS384: { kty: 'oct', hash: 'SHA-384' },
  HS512: { kty: 'oct', hash: 'SHA-512' },
  RS256: { kty: 'RSA', imp: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ver: { name: 'RSASSA-PKCS1-v1_5' } },
  RS384: { kty: 'RSA', imp: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }, ver: { name: 'RSASSA-PKCS1-v1_5' } },
  RS512: { kty: 'RSA', imp: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' }, ver: { name: 'RSASSA-PKCS1-v1_5' } },
  PS256: { kty: 'RSA', imp: { name: 'RSA-PSS', hash: 'SHA-256' }, ver: { name: 'RSA-PSS', saltLength: 32 } },
  PS384: { kty: 'RSA', imp: { name: 'RSA-PSS', hash: 'SHA-384' }, ver: { name: 'RSA-PSS', saltLength: 48 } },
  PS512: { kty: 'RSA', imp: { name: 'RSA-PSS', hash: 'SHA-512' }, ver: { name: 'RSA-PSS', saltLength: 64 } },
  // JWS ECDSA signatures are already the raw r||s WebCrypto expects.
  ES256: { kty: 'EC', crv: 'P-256', sigLen: 64, imp: { name: 'ECDSA', namedCurve: 'P-256' }, ver: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { kty: 'EC', crv: 'P-384', sigLen: 96, imp: { name: 'ECDSA', namedCurve: 'P-384' }, ver: { name: 'ECDSA', hash: 'SHA-384' } },
  ES512: { kty: 'EC', crv: 'P-521', sigLen: 132, imp: { name: 'ECDSA', namedCurve: 'P-521' }, ver: { name: 'ECDSA', hash: 'SHA-512' } },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', sigLen: 64, imp: { name: 'Ed25519' }, ver: { name: 'Ed25519' } },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', sigLen: 64, imp: { name: 'Ed25519' }, ver: { name: 'Ed25519' } },
};

// Result of a verification: valid, and why not.
function result(valid, reason, kid) { return { valid, reason: reason || '', kid }; }

// algOf returns the token's algorithm entry, or throws for alg none and
// unknown or critical extensions.
function algOf(tok) {
  const alg = tok.header.alg;
  if (typeof alg !== 'string') throw new Error('the header has no alg');
  if (alg.toLowerCase() === 'none') throw new Error('alg "none" means unsigned: never accepted');
  const a = ALGS[alg];
  if (!a) throw new Error(`unknown or unsupported alg "${alg}"`);
  if (tok.header.crit !== undefined) throw new Error('the header lists critical extensions (crit) this inspector does not understand');
  return a;
}

function subtle() {
  if (!globalThis.crypto || !crypto.subtle) throw new Error('this browser offers no WebCrypto on this page (it needs HTTPS or localhost)');
  return crypto.subtle;
}

// verifySecret checks an HS256/384/512 token against a shared secret.
export async function verifySecret(tok, secret) {
  let a;
  try { a = algOf(tok); } catch (e) { return result(false, e.message); }
  if (a.kty !== 'oct') return result(false, `the token says ${tok.header.alg}: a shared secret cannot verify it (refusing algorithm confusion)`);
  if (!secret || secret.length === 0) return result(false, 'enter the secret');
  return hmacVerify(tok, a, secret);
}

async function hmacVerify(tok, a, secret) {
  const key = await subtle().importKey('raw', secret, { name: 'HMAC', hash: a.hash }, false, ['verify']);
  const ok = await subtle().verify('HMAC', key, tok.signature, tok.signingInput);
  return result(ok, ok ? '' : 'the signature does not match the secret');
}

// parseKeys reads a JWKS document ({"keys":[...]}) or a single JWK.
export function parseKeys(text) {
  let v;
  try { v = typeof text === 'string' ? JSON.parse(text) : text; } catch (e) { throw new Error('the keys are not JSON: ' + e.message); }
  if (v && Array.isArray(v.keys)) return v.keys.filter((k) => k && typeof k === 'object');
  if (v && typeof v === 'object' && typeof v.kty === 'string') return [v];
  throw new Error('expected a JWKS document {"keys":[…]} or a single JWK');
}

// publicJWK keeps only the public members WebCrypto needs: a pasted
// private key's d is dropped, and alg/key_ops cannot conflict.
function publicJWK(k) {
  switch (k.kty) {
    case 'RSA': return { kty: 'RSA', n: k.n, e: k.e, ext: true };
    case 'EC': return { kty: 'EC', crv: k.crv, x: k.x, y: k.y, ext: true };
    case 'OKP': return { kty: 'OKP', crv: k.crv, x: k.x, ext: true };
  }
  return null;
}

// verifyKeys checks a token against a set of JWKs: keys whose kid, kty,
// crv, alg and use fit the token are tried; any match makes it valid.
export async function verifyKeys(tok, keys) {
  let a;
  try { a = algOf(tok); } catch (e) { return result(false, e.message); }
  const alg = tok.header.alg;
  const kid = tok.header.kid;
  let cands = keys;
  if (typeof kid === 'string') {
    cands = keys.filter((k) => k.kid === kid);
    if (cands.length === 0) return result(false, `no key has the token's kid "${kid}"`);
  }
  cands = cands.filter((k) => k.kty === a.kty && (a.crv === undefined || k.crv === a.crv) &&
    (k.alg === undefined || k.alg === alg || (alg === 'Ed25519' && k.alg === 'EdDSA') || (alg === 'EdDSA' && k.alg === 'Ed25519')) &&
    (k.use === undefined || k.use === 'sig'));
  if (cands.length === 0) return result(false, `no ${a.kty}${a.crv ? ' ' + a.crv : ''} key for ${alg} among the keys`);
  if (a.sigLen && tok.signature.length !== a.sigLen) {
    return result(false, `a ${alg} signature is ${a.sigLen} bytes; this one is ${tok.signature.length}`);
  }
  const errors = [];
  for (const k of cands) {
    try {
      if (a.kty === 'oct') {
        const r = await hmacVerify(tok, a, b64urlDecode(k.k || ''));
        if (r.valid) return result(true, '', k.kid);
        continue;
      }
      const key = await subtle().importKey('jwk', publicJWK(k), a.imp, false, ['verify']);
      if (await subtle().verify(a.ver, key, tok.signature, tok.signingInput)) return result(true, '', k.kid);
    } catch (e) {
      const name = e && e.name === 'NotSupportedError' ? `this browser cannot verify ${alg}` : `key ${k.kid || '(no kid)'}: ${e.message || e}`;
      errors.push(name);
    }
  }
  if (errors.length === cands.length) return result(false, errors.join('; '));
  return result(false, cands.length === 1 ? 'the signature does not match the key' : `the signature matches none of the ${cands.length} keys`);
}
