package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "-ldflags", Value: "-s"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2025-06-01T12:00:00Z"},
	}
	dirty := append(append([]debug.BuildSetting(nil), vcs...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	clean := append(append([]debug.BuildSetting(nil), vcs...), debug.BuildSetting{Key: "vcs.modified", Value: "false"})
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     string
		short    string
	}{
		{name: "no build info", bi: nil,
			want: "jwtgate (devel)\ngo:       " + runtime.Version() + " " + platform + "\n"},
		{name: "go build in a clean checkout",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: clean},
			want: "jwtgate (devel)\nrevision: 0123456789abcdef0123456789abcdef01234567\ndate:     2025-06-01T12:00:00Z\ngo:       go1.26.1 " + platform + "\n", short: "0123456789ab"},
		{name: "uncommitted changes",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.3.1-0.20250601120000-0123456789ab+dirty"}, Settings: dirty},
			want: "jwtgate v0.3.1-0.20250601120000-0123456789ab+dirty\nrevision: 0123456789abcdef0123456789abcdef01234567 (modified)\ndate:     2025-06-01T12:00:00Z\ngo:       go1.26.1 " + platform + "\n", short: "0123456789ab+modified"},
		{name: "go install @version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.4.0"}},
			want: "jwtgate v1.4.0\ngo:       go1.26.1 " + platform + "\n"},
		{name: "release ldflags",
			bi: &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: clean}, override: "v1.2.3",
			want: "jwtgate v1.2.3\nrevision: 0123456789abcdef0123456789abcdef01234567\ndate:     2025-06-01T12:00:00Z\ngo:       go1.26.1 " + platform + "\n", short: "0123456789ab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := fromBuildInfo(tc.bi, tc.override)
			if got := i.String(); got != tc.want {
				t.Errorf("String() =\n%s\nwant\n%s", got, tc.want)
			}
			if got := i.ShortRevision(); got != tc.short {
				t.Errorf("ShortRevision() = %q, want %q", got, tc.short)
			}
		})
	}
}
