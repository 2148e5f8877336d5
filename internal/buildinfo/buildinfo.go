// Package buildinfo is what `openclaw-bot version` prints and
// openclaw_bot_build_info labels: the -X stamps of the main package
// combined with the binary's own build info.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/openclaw-bot/openclaw-bot/metrics"
)

// Info is what `openclaw-bot version --json` prints.
type Info struct {
	Version  string `json:"version"`
	Revision string `json:"revision"` // full VCS revision; "" when unknown
	Modified bool   `json:"modified"` // built from a tree with uncommitted changes
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Built    string `json:"built"` // commit time (vcs.time) or -X main.built; "" when unknown
}

// Read combines the -X variables with the binary's build info: the -X
// version wins over the module version (go install …@v1.2.3), the VCS
// stamp over -X revision/built.
func Read(version, revision, built string) Info {
	b := Info{Version: version, Revision: revision, Built: built, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			b.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			case "vcs.time":
				b.Built = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// String is the one-line form: "openclaw-bot VERSION[ (REV12[+dirty])] GOVERSION".
func (b Info) String() string {
	out := "openclaw-bot " + b.Version
	if rev := b.Revision; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " (" + rev
		if b.Modified {
			out += "+dirty"
		}
		out += ")"
	}
	return fmt.Sprintf("%s %s", out, b.Go)
}

// Metrics labels openclaw_bot_build_info.
func (b Info) Metrics() metrics.BuildInfo {
	return metrics.BuildInfo{Version: b.Version, Revision: b.Revision, GoVersion: b.Go}
}
