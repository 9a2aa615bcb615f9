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
