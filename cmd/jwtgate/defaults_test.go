package main

import (
	"io"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/guard"
	"github.com/jwtgate/jwtgate/internal/auth"
)

// The defaults each command applies are the single definitions, and guard,
// which cannot import them, keeps copies that agree: a guard with a zero
// Config accepts what a server with no flags issues.
func TestDefaultsAgree(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := parseServeFlags(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cmd := newCommand("t", "t", "", noEnv)
	st := storageFlags(cmd)
	if _, err := cmd.parseArgs(nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"serve --issuer", c.Issuer, auth.DefaultIssuer},
		{"serve --audience", c.Audience, auth.DefaultAudience},
		{"serve --access-ttl", c.AccessTTL, auth.DefaultAccessTTL},
		{"serve --leeway", c.Leeway, auth.DefaultLeeway},
		{"serve --data", c.Data, defaultData},
		{"serve --key-reload", c.KeyReload, defaultKeyReload},
		{"serve --revocation-poll", c.RevocationPoll, defaultRevocationPoll},
		{"serve --audit-retention", c.AuditRetention, 90 * 24 * time.Hour},
		{"user/key --data", st.data, defaultData},
		{"user/key token age", tokenAge(noEnv), auth.DefaultTokenAge},
		{"auth.DefaultTokenAge", auth.DefaultTokenAge, auth.DefaultAccessTTL + auth.DefaultLeeway},
		{"guard.DefaultIssuer", guard.DefaultIssuer, auth.DefaultIssuer},
		{"guard.DefaultAudience", guard.DefaultAudience, auth.DefaultAudience},
		{"guard.DefaultLeeway", time.Duration(guard.DefaultLeeway), auth.DefaultLeeway},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
