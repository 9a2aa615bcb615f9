package auth_test

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

// RFC 4226 Appendix D: HOTP of the ASCII secret "12345678901234567890"
// for counters 0 to 9.
func TestHOTPRFC4226(t *testing.T) {
	key := []byte("12345678901234567890")
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := auth.HOTP(key, uint64(i), 6); got != w {
			t.Errorf("HOTP(counter %d) = %s, want %s", i, got, w)
		}
	}
}

// RFC 6238 Appendix B, the SHA-1 rows: 8-digit codes, which check the
// dynamic truncation beyond the 6 digits jwtgate uses, and the time step
// (T0 = 0, 30 s) including times past 2^31 seconds.
func TestTOTPRFC6238(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		step int64
		want string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	} {
		tm := time.Unix(tc.unix, 0)
		if s := auth.TOTPStep(tm); s != tc.step {
			t.Errorf("TOTPStep(%d) = %#x, want %#x", tc.unix, s, tc.step)
		}
		if got := auth.HOTP(key, uint64(auth.TOTPStep(tm)), 8); got != tc.want {
			t.Errorf("TOTP(%d) = %s, want %s", tc.unix, got, tc.want)
		}
		if got := auth.TOTPCode(key, tm); got != tc.want[2:] {
			t.Errorf("6-digit TOTP(%d) = %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
}

func TestTOTPURI(t *testing.T) {
	secret := []byte("12345678901234567890")
	u, err := url.Parse(auth.TOTPURI("auth.example.com", "Émile", secret))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/auth.example.com:Émile" {
		t.Errorf("URI %s: wrong scheme, type or label", u)
	}
	if q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || q.Get("issuer") != "auth.example.com" ||
		q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("URI %s: wrong parameters", u)
	}
	back, err := auth.ParseTOTPSecret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
	if err != nil || !bytes.Equal(back, secret) {
		t.Errorf("ParseTOTPSecret = %q, %v", back, err)
	}
}

func TestMFAKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mfa.key")
	if _, err := auth.LoadMFAKeyFile(path, false); err == nil {
		t.Fatal("a missing key file without create succeeded")
	}
	k1, err := auth.LoadMFAKeyFile(path, true)
	if err != nil || len(k1) != auth.MinMFAKeyLen {
		t.Fatalf("LoadMFAKeyFile(create) = %d bytes, %v", len(k1), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, err := auth.LoadMFAKeyFile(path, true)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load made another key: %v", err)
	}
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("too short"), 0o600)
	if _, err := auth.LoadMFAKeyFile(short, false); err == nil {
		t.Fatal("a 9-byte key file was accepted")
	}
	if _, err := auth.NewMFAKey(make([]byte, 16)); err == nil {
		t.Fatal("NewMFAKey took 16 bytes")
	}
}
