package main

import (
	"io"
	"strings"
	"testing"
)

func TestServePublicURLFlag(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"https://auth.example.com", true},
		{"https://auth.example.com/base/", true},
		{"http://localhost:8080", true},
		{"auth.example.com", false},
		{"/relative", false},
		{"ftp://auth.example.com", false},
		{"https://", false},
		{"https://user:pw@auth.example.com", false},
		{"https://auth.example.com/?q=1", false},
		{"https://auth.example.com/#x", false},
	}
	for _, tc := range tests {
		_, err := parseServeFlags([]string{"--public-url", tc.url}, func(string) string { return "" }, io.Discard)
		if (err == nil) != tc.ok {
			t.Errorf("--public-url %q: err %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

// TestServeSaysDiscoveryNeedsPublicURL: without --public-url or an https
// issuer the start-up log says the discovery document is off and how to
// turn it on.
func TestServeSaysDiscoveryNeedsPublicURL(t *testing.T) {
	tests := []struct {
		args []string
		warn bool
	}{
		{nil, true},
		{[]string{"--issuer", "http://auth.example.com"}, true},
		{[]string{"--public-url", "https://auth.example.com"}, false},
		{[]string{"--issuer", "https://auth.example.com"}, false},
	}
	for _, tc := range tests {
		_, _, logs := startServer(t, tc.args...)
		got := strings.Contains(logs.String(), "--public-url https://HOST")
		if got != tc.warn {
			t.Errorf("%v: log says to set --public-url: %v, want %v; log:\n%s", tc.args, got, tc.warn, logs)
		}
	}
}

// TestServeSaysHS256IsNoOpenIDProvider: a public URL with a shared-secret
// key makes no OpenID provider; the start-up log says how to become one,
// and an EdDSA server is one: its discovery document names the public URL.
func TestServeSaysHS256IsNoOpenIDProvider(t *testing.T) {
	const warning = "not an OpenID provider: rotate to EdDSA/ES256/RS256 with `jwtgate key rotate --alg EdDSA`"
	tests := []struct {
		args []string
		warn bool
	}{
		{[]string{"--public-url", "http://127.0.0.1:1"}, true},
		{[]string{"--public-url", "http://127.0.0.1:1", "--alg", "EdDSA"}, false},
		{nil, false},
	}
	for _, tc := range tests {
		base, _, logs := startServer(t, tc.args...)
		if got := strings.Contains(logs.String(), warning); got != tc.warn {
			t.Errorf("%v: warning logged %v, want %v; log:\n%s", tc.args, got, tc.warn, logs)
		}
		if len(tc.args) > 2 {
			code, _, body := httpGetRaw(t, base+"/.well-known/openid-configuration")
			if code != 200 || !strings.Contains(string(body), `"issuer":"http://127.0.0.1:1"`) || !strings.Contains(string(body), `"authorization_endpoint"`) {
				t.Errorf("discovery %d %s", code, body)
			}
		}
	}
}
