package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/openclaw-bot/openclaw-bot/internal/buildinfo"
	"github.com/openclaw-bot/openclaw-bot/metrics"
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
type versionInfo = buildinfo.Info

func readVersionInfo() versionInfo { return buildinfo.Read(version, revision, built) }

// versionString is the one-line form: "openclaw-bot VERSION[ (REV12[+dirty])] GOVERSION".
func versionString() string { return readVersionInfo().String() }

// buildInfo labels openclaw_bot_build_info.
func buildInfo() metrics.BuildInfo { return readVersionInfo().Metrics() }

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
