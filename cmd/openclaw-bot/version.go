package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.version=… -X main.revision=… -X
// main.built=…" (the Dockerfile does). revision and built only stand in for
// the VCS stamp of the build info, which a build without .git (a Docker
// build context) or with -buildvcs=false lacks.
var (
	version  = ""
	revision = ""
	built    = "" // RFC 3339
)

// versionInfo is what `openclaw-bot version --json` prints.
type versionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision"` // full VCS revision; "" when unknown
	Modified bool   `json:"modified"` // built from a tree with uncommitted changes
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Built    string `json:"built"` // commit time (vcs.time) or -X main.built; "" when unknown
}

// readVersionInfo combines the -X variables with the binary's build info: the
// -X version wins over the module version (go install …@v1.2.3), the VCS
// stamp over -X revision/built.
func readVersionInfo() versionInfo {
	b := versionInfo{Version: version, Revision: revision, Built: built, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
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

// versionString is the one-line form: "openclaw-bot VERSION[ (REV12[+dirty])] GOVERSION".
func versionString() string {
	b := readVersionInfo()
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

// cmdVersion prints the version: one line, or with --json the build info.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, `the build info as JSON: {"version","revision","modified","go","os","arch","built"}`)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: openclaw-bot version [--json]\n\nPrints the version, VCS revision and Go version of this binary.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "openclaw-bot version: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitError
	}
	if !*asJSON {
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(readVersionInfo()); err != nil {
		fmt.Fprintln(stderr, "openclaw-bot version:", err)
		return exitError
	}
	return exitOK
}
