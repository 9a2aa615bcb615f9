package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"net/url"
	"strings"
	"time"
)

// TOTP as RFC 6238 defines it and every authenticator app implements it:
// HMAC-SHA-1, 6 digits, 30-second steps. It is written here on
// crypto/hmac rather than taken from a library: the whole algorithm is
// HOTP's dynamic truncation over a time counter, a few lines that the
// RFC vectors test completely, against a dependency in an auth server.
const (
	TOTPDigits = 6
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is how many steps before and after the current one a code
	// is accepted for: clocks of phones drift, and a code typed in the
	// last seconds of its step arrives in the next.
	TOTPSkew = 1
	// totpSecretLen is the secret's length: 160 bits, as RFC 4226
	// recommends for HMAC-SHA-1.
	totpSecretLen = 20
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// HOTP returns the RFC 4226 one-time password of key and counter with
// digits digits (6 to 9): HMAC-SHA-1, then dynamic truncation.
func HOTP(key []byte, counter uint64, digits int) string {
	m := hmac.New(sha1.New, key)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	m.Write(c[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	v %= mod
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out)
}

// TOTPStep is the RFC 6238 time step of t (T0 = 0, 30 seconds).
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// TOTPCode returns the 6-digit code of key at t.
func TOTPCode(key []byte, t time.Time) string {
	return HOTP(key, uint64(TOTPStep(t)), TOTPDigits)
}

// matchTOTP returns the step within TOTPSkew of now whose code is code,
// newest first, skipping steps at or before after (already used).
func matchTOTP(key []byte, code string, now time.Time, after int64) (int64, bool) {
	if len(code) != TOTPDigits {
		return 0, false
	}
	cur := TOTPStep(now)
	for step := cur + TOTPSkew; step >= cur-TOTPSkew; step-- {
		if step <= after || step < 0 {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(HOTP(key, uint64(step), TOTPDigits)), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// newTOTPSecret returns a random 160-bit secret.
func newTOTPSecret() []byte {
	b := make([]byte, totpSecretLen)
	rand.Read(b)
	return b
}

// TOTPSecretText is secret as authenticator apps take it typed in:
// base32 without padding.
func TOTPSecretText(secret []byte) string { return b32.EncodeToString(secret) }

// ParseTOTPSecret reads TOTPSecretText's form, ignoring spaces and case.
func ParseTOTPSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	return b32.DecodeString(strings.TrimRight(s, "="))
}

// TOTPURI is the otpauth:// URI of an enrolment (the key-uri format of
// Google Authenticator, which other apps follow): the label is
// "issuer:account", and issuer is also a parameter.
func TOTPURI(issuer, account string, secret []byte) string {
	q := url.Values{}
	q.Set("secret", TOTPSecretText(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}
