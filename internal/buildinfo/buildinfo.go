// Package buildinfo says which jwtgate this is: its version, the commit it
// was built from and the Go that built it, as recorded by go build.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version overrides the main module's version for release builds:
//
//	go build -ldflags "-X github.com/jwtgate/jwtgate/internal/buildinfo.version=v1.2.3" ./cmd/jwtgate
var version = ""

// Info describes the running binary.
type Info struct {
	Version   string // -ldflags -X, else the module version (go install …@v1.2.3), else "(devel)"
	Revision  string // VCS commit, "" when built outside a checkout or with -buildvcs=false
	Time      string // commit time (RFC 3339), ""  when unknown
	Modified  bool   // built from a working tree with uncommitted changes
	GoVersion string // the Go toolchain that built it, e.g. go1.26.0
	Platform  string // GOOS/GOARCH
}

// Get reads the build information go build embedded in the binary.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, version)
}

func fromBuildInfo(bi *debug.BuildInfo, override string) Info {
	i := Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if v := bi.Main.Version; v != "" {
			i.Version = v
		}
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.time":
				i.Time = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if override != "" {
		i.Version = override
	}
	return i
}

// String is the answer of jwtgate version: the version on the first line,
// then what is known of the commit and the toolchain.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "jwtgate %s\n", i.Version)
	if i.Revision != "" {
		mod := ""
		if i.Modified {
			mod = " (modified)"
		}
		fmt.Fprintf(&b, "revision: %s%s\n", i.Revision, mod)
	}
	if i.Time != "" {
		fmt.Fprintf(&b, "date:     %s\n", i.Time)
	}
	fmt.Fprintf(&b, "go:       %s %s\n", i.GoVersion, i.Platform)
	return b.String()
}

// ShortRevision is the commit's first 12 hex digits, with "+modified"
// for a dirty tree: short enough for a log line.
func (i Info) ShortRevision() string {
	r := i.Revision
	if len(r) > 12 {
		r = r[:12]
	}
	if r != "" && i.Modified {
		r += "+modified"
	}
	return r
}
