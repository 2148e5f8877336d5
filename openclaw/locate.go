package openclaw

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LocateOptions says where to look for an OpenClaw install. The first four
// fields come from the bot's flags (or a target's config entry, which the
// caller folds in first): flag > target > OPENCLAW_* env > ~/.openclaw.
type LocateOptions struct {
	StateDir   string // like OPENCLAW_STATE_DIR
	ConfigPath string // like OPENCLAW_CONFIG_PATH
	Profile    string // like `openclaw --profile NAME` → ~/.openclaw-NAME
	AgentDir   string // like OPENCLAW_AGENT_DIR
	// StateDirFrom says where StateDir came from, for messages (Location.How);
	// default "--state-dir".
	StateDirFrom string

	// Getenv reads the environment OpenClaw would see; nil means os.Getenv.
	Getenv func(string) string
	// Home is the home directory; empty means OPENCLAW_HOME, then $HOME.
	Home string
}

// Location is a resolved install: where its state and config live and why.
type Location struct {
	StateDir   string `json:"state_dir"`
	ConfigPath string `json:"config_path"`
	AgentDir   string `json:"agent_dir,omitempty"` // set only when overridden
	Home       string `json:"-"`
	// How is a short human explanation of how StateDir was chosen,
	// e.g. "--state-dir flag" or "OPENCLAW_STATE_DIR" or "default ~/.openclaw".
	How string `json:"how"`
}

// ErrNoHome is returned when no home directory can be determined and no
// state dir was given explicitly.
var ErrNoHome = errors.New("cannot find a home directory: set --state-dir or OPENCLAW_STATE_DIR")

// Locate resolves an install the way OpenClaw 2026.9.6 does
// (dist/paths: resolveStateDir, resolveConfigPath, applyCliProfileEnv), with
// our flags taking precedence over the environment. It only stats files.
func Locate(opts LocateOptions) (Location, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }

	home := opts.Home
	if home == "" {
		home = env("OPENCLAW_HOME")
	}
	if home == "" {
		home = env("HOME")
	}
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	expand := func(p string) string { return ExpandHome(p, home) }

	var loc Location
	loc.Home = home
	profile := strings.TrimSpace(opts.Profile)
	switch {
	case opts.StateDir != "":
		loc.StateDir, loc.How = expand(opts.StateDir), "--state-dir"
		if opts.StateDirFrom != "" {
			loc.How = opts.StateDirFrom
		}
	case profile != "":
		if home == "" {
			return loc, ErrNoHome
		}
		loc.StateDir, loc.How = profileDir(home, profile), "--openclaw-profile "+profile
	case env("OPENCLAW_STATE_DIR") != "":
		loc.StateDir, loc.How = expand(env("OPENCLAW_STATE_DIR")), "OPENCLAW_STATE_DIR"
	case env("OPENCLAW_PROFILE") != "":
		if home == "" {
			return loc, ErrNoHome
		}
		p := env("OPENCLAW_PROFILE")
		loc.StateDir, loc.How = profileDir(home, p), "OPENCLAW_PROFILE="+p
	default:
		if home == "" {
			return loc, ErrNoHome
		}
		loc.StateDir, loc.How = filepath.Join(home, ".openclaw"), "default ~/.openclaw"
		if !exists(loc.StateDir) && exists(filepath.Join(home, ".clawdbot")) {
			loc.StateDir, loc.How = filepath.Join(home, ".clawdbot"), "legacy ~/.clawdbot"
		}
	}
	loc.StateDir = filepath.Clean(loc.StateDir)

	switch {
	case opts.ConfigPath != "":
		loc.ConfigPath = expand(opts.ConfigPath)
	case env("OPENCLAW_CONFIG_PATH") != "" && opts.StateDir == "" && profile == "":
		loc.ConfigPath = expand(env("OPENCLAW_CONFIG_PATH"))
	default:
		loc.ConfigPath = filepath.Join(loc.StateDir, "openclaw.json")
		if !exists(loc.ConfigPath) && exists(filepath.Join(loc.StateDir, "clawdbot.json")) {
			loc.ConfigPath = filepath.Join(loc.StateDir, "clawdbot.json")
		}
	}

	switch {
	case opts.AgentDir != "":
		loc.AgentDir = expand(opts.AgentDir)
	case env("OPENCLAW_AGENT_DIR") != "":
		loc.AgentDir = expand(env("OPENCLAW_AGENT_DIR"))
	case env("PI_CODING_AGENT_DIR") != "":
		loc.AgentDir = expand(env("PI_CODING_AGENT_DIR"))
	}
	return loc, nil
}

func profileDir(home, profile string) string {
	if profile == "default" {
		return filepath.Join(home, ".openclaw")
	}
	return filepath.Join(home, ".openclaw-"+profile)
}

// ExpandHome expands a leading "~" or "~/" and makes the path absolute-clean.
func ExpandHome(p, home string) string {
	p = strings.TrimSpace(p)
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") && home != "" {
		return filepath.Join(home, p[2:])
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Describe is a one-line human description of a location.
func (l Location) Describe() string {
	return fmt.Sprintf("%s (%s)", l.StateDir, l.How)
}
