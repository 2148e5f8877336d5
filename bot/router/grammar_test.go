package router

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testTargets = []string{"prod", "staging"}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Command
	}{
		{"", Command{Name: CmdHelp}},
		{"status", Command{Name: CmdStatus}},
		{"  STATUS   prod ", Command{Name: CmdStatus, Target: "prod"}},
		{"status PROD", Command{Name: CmdStatus, Target: "prod"}},
		{"diagnose staging", Command{Name: CmdDiagnose, Target: "staging"}},
		{"check", Command{Name: CmdCheck}},
		{"cooldowns prod", Command{Name: CmdCooldowns, Target: "prod"}},
		{"cooldown reset anthropic:default", Command{Name: CmdCooldownReset, Profile: "anthropic:default"}},
		{"cooldown reset anthropic:default prod", Command{Name: CmdCooldownReset, Profile: "anthropic:default", Target: "prod"}},
		{"cooldown reset prod anthropic:default", Command{Name: CmdCooldownReset, Profile: "anthropic:default", Target: "prod"}},
		{"cooldown reset ALL", Command{Name: CmdCooldownReset, Profile: "all"}},
		{"Cooldown Reset all staging", Command{Name: CmdCooldownReset, Profile: "all", Target: "staging"}},
		// Telegram: the surface normalises "/cooldown_reset@bot x" to
		// "cooldown reset x"; the raw forms are tolerated too.
		{"cooldown reset anthropic:default prod", Command{Name: CmdCooldownReset, Profile: "anthropic:default", Target: "prod"}},
		{"/cooldown_reset@openclaw_bot anthropic:default", Command{Name: CmdCooldownReset, Profile: "anthropic:default"}},
		{"cooldown_reset anthropic:default", Command{Name: CmdCooldownReset, Profile: "anthropic:default"}},
		{"/openclaw status prod", Command{Name: CmdStatus, Target: "prod"}},
		{"/status@openclaw_bot", Command{Name: CmdStatus}},
		{"doctor_fix prod", Command{Name: CmdDoctorFix, Target: "prod"}},
		{"doctor --fix", Command{Name: CmdDoctorFix}},
		{"doctor", Command{Name: CmdDoctor}},
		{"doctor fix", Command{Name: CmdDoctorFix}},
		{"probe --spend", Command{Name: CmdProbeSpend}},
		{"probe —spend prod", Command{Name: CmdProbeSpend, Target: "prod"}}, // Slack auto-correct
		{"probe_spend", Command{Name: CmdProbeSpend}},
		{"restart staging", Command{Name: CmdRestart, Target: "staging"}},
		{"undo 42", Command{Name: CmdUndo, ID: "42"}},
		{"undo #42", Command{Name: CmdUndo, ID: "42"}},
		{"ack 7", Command{Name: CmdAck, ID: "7"}},
		{"silence 30m", Command{Name: CmdSilence, Duration: 30 * time.Minute}},
		{"silence 2h30m prod anthropic:default cooldown.active",
			Command{Name: CmdSilence, Duration: 150 * time.Minute, Target: "prod", Profile: "anthropic:default", Code: "cooldown.active"}},
		{"silence 1d key.rejected", Command{Name: CmdSilence, Duration: 24 * time.Hour, Code: "key.rejected"}},
		{"silence 7d", Command{Name: CmdSilence, Duration: 7 * 24 * time.Hour}},
		{"silences", Command{Name: CmdSilences}},
		{"unsilence K3J9X2AB", Command{Name: CmdUnsilence, ID: "k3j9x2ab"}},
		{"audit", Command{Name: CmdAudit}},
		{"audit 20", Command{Name: CmdAudit, N: 20}},
		{"whoami", Command{Name: CmdWhoami}},
		{"help", Command{Name: CmdHelp}},
		{"help cooldown reset", Command{Name: CmdHelp, Topic: CmdCooldownReset}},
		{"help /cooldown_reset", Command{Name: CmdHelp, Topic: CmdCooldownReset}},
		{"help probe --spend", Command{Name: CmdHelp, Topic: CmdProbeSpend}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in, testTargets)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			// The canonical form parses to the same command.
			again, err := Parse(got.String(), testTargets)
			if err != nil || again != got {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		msg, usage, suggst string
	}{
		{"statsu", "unknown command", "status [target]", "status"},
		{"diagnsoe prod", "unknown command", "diagnose [target]", "diagnose"},
		{"cooldwns", "unknown command", "cooldowns [target]", "cooldowns"},
		{"cooldown", "unknown command", "cooldowns [target]", "cooldowns"},
		{"cooldown clear anthropic:default", "needs a subcommand", "cooldown reset <profile|all> [target]", "cooldown reset"},
		{"cooldwn reset anthropic:default", "unknown command", "cooldown reset <profile|all> [target]", "cooldown reset"},
		{"reset anthropic:default", "unknown command", "cooldown reset <profile|all> [target]", "cooldown reset"},
		{"doctr fix", "unknown command", "doctor fix [target] [profile|all]", "doctor fix"},
		{"probe", "needs --spend", "probe --spend [target]", "probe --spend"},
		{"restrat", "unknown command", "restart [target]", "restart"},
		{"silense 1h", "unknown command", "silence <duration> [target] [profile] [code]", "silence"},
		{"whomai", "unknown command", "whoami", "whoami"},
		{"status nowhere", `unknown target "nowhere" (targets: prod, staging)`, "status [target]", ""},
		{"status anthropic:default", "takes no profile", "status [target]", ""},
		{"status prod staging", "two targets", "status [target]", ""},
		{"status --json", "has no option", "status [target]", ""},
		{"cooldown reset", "say which profile", "cooldown reset <profile|all> [target]", ""},
		{"cooldown reset prod", "say which profile", "cooldown reset <profile|all> [target]", ""},
		{"cooldown reset a:b c:d", "two profiles", "cooldown reset <profile|all> [target]", ""},
		{"silence", "say how long", "silence <duration> [target] [profile] [code]", ""},
		{"silence 8d", "at most 7d", "silence <duration> [target] [profile] [code]", ""},
		{"silence 10s", "at least 1m", "silence <duration> [target] [profile] [code]", ""},
		{"silence 1h 2h", "two durations", "silence <duration> [target] [profile] [code]", ""},
		{"silence 1x", "not a duration", "silence <duration> [target] [profile] [code]", ""},
		{"undo", "exactly one", "undo <audit id>", ""},
		{"undo abc", "not an id", "undo <audit id>", ""},
		{"undo -3", "not an id", "undo <audit id>", ""},
		{"ack 1 2", "exactly one", "ack <incident id>", ""},
		{"unsilence", "exactly one", "unsilence <id>", ""},
		{"unsilence a-b", "not a silence id", "unsilence <id>", ""},
		{"audit 0", "from 1 to 50", "audit [n]", ""},
		{"audit 51", "from 1 to 50", "audit [n]", ""},
		{"whoami please", "takes no arguments", "whoami", ""},
		{"help bogus", "no help for", "help [command]", ""},
		{"help statsu", "no help for", "help [command]", "status"},
		{"foo", "unknown command", "", ""},
		{"stat", "unknown command", "status [target]", "status"},
		{"cooldownreset anthropic:default", "unknown command", "cooldown reset <profile|all> [target]", "cooldown reset"},
		{strings.Repeat("x", 3000), "too long", "", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in, testTargets)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tc.in, err)
			}
			if !strings.Contains(pe.Msg, tc.msg) || pe.Usage != tc.usage || pe.Suggest != tc.suggst {
				t.Fatalf("Parse(%q) = {Msg %q Usage %q Suggest %q}, want msg ~%q usage %q suggest %q",
					tc.in, pe.Msg, pe.Usage, pe.Suggest, tc.msg, tc.usage, tc.suggst)
			}
			if len(pe.Error()) > 400 {
				t.Fatalf("error too long (echoes input?): %d bytes", len(pe.Error()))
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30m": 30 * time.Minute, "1h": time.Hour, "2h30m": 150 * time.Minute, "1d": 24 * time.Hour,
		"1d12h": 36 * time.Hour, "7d": 7 * 24 * time.Hour, "90s": 90 * time.Second, "1H": time.Hour, "6d23h59m": 7*24*time.Hour - time.Minute,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := ParseDuration(FormatDuration(got)); back != got {
			t.Errorf("FormatDuration(%v) = %q does not parse back", got, FormatDuration(got))
		}
	}
	for _, in := range []string{"", "h", "1", "1m1h", "1h1h", "7d1m", "8d", "30s", "-1h", "1.5h", "9999999h", "1y", "10000000m"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
}

// Every spec is reachable, has a usage starting with its name and an
// example that parses to it.
func TestSpecsConsistent(t *testing.T) {
	for _, s := range Specs() {
		if !strings.HasPrefix(s.Usage, s.Name) {
			t.Errorf("%s: usage %q", s.Name, s.Usage)
		}
		ex := strings.ReplaceAll(s.Example, "anthropic:default", "anthropic:default")
		c, err := Parse(ex, testTargets)
		if err != nil || c.Name != s.Name {
			t.Errorf("%s: example %q parses to %+v, %v", s.Name, s.Example, c, err)
		}
		if s.Confirm != (s.Name == CmdCooldownReset || s.Name == CmdUndo || s.Name == CmdRestart ||
			s.Name == CmdDoctorFix || s.Name == CmdProbeSpend) {
			t.Errorf("%s: Confirm = %v, contrary to the contract", s.Name, s.Confirm)
		}
	}
}

func TestDoctorFixNamesOAuthLogins(t *testing.T) {
	for in, want := range map[string]string{"doctor fix anthropic:oauth": "anthropic:oauth", "doctor fix all": "all", "doctor fix": ""} {
		cmd, err := Parse(in, nil)
		if err != nil || cmd.Name != CmdDoctorFix || cmd.Profile != want {
			t.Errorf("Parse(%q) = %+v, %v; want profile %q", in, cmd, err, want)
		}
	}
}
