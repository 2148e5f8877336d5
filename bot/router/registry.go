package router

import (
	"context"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// Spec is everything the router knows about one chat command. The registry
// (specs, below) is the one place a command is added: the grammar (Parse,
// Command.Args), the role check, help, whoami, Telegram's command menu
// (Commands), what answers it, its preview and the action Confirm calls
// are all read from its entry. TestRegistry checks every entry field by
// field (README "Extend it").
type Spec struct {
	Name    string // canonical name, e.g. "cooldown reset"
	Usage   string // exact usage, e.g. "cooldown reset <profile|all> [target]"
	Role    Role   // least role that may run it
	Confirm bool   // answers with a preview and Confirm/Cancel buttons
	Summary string // one line of help
	Example string // one example invocation
	Note    string // more of `help <command>`
	// Menu is the line of Telegram's command menu; the command's name
	// there is TelegramName(Name).
	Menu string
	// Needs is what the action needs on a target besides its files; the
	// actions answer with Manual's steps when a target lacks it.
	Needs Need
	// Owner: in a fleet, the command runs on the instance that owns its
	// target (it reads the install live or changes it); the others answer
	// here, from the reports the owners publish and the shared store.
	Owner bool

	args argShape
	// run answers the command once the role check passed. A Confirm
	// command's run builds its preview (makePreview); a press on Confirm
	// then calls action.
	run func(r *Router, ctx context.Context, who Who, cmd Command) result
	// action is the Actions method that does the command.
	action func(a Actions, ctx context.Context, target string, args []string) (bot.Message, error)
	// manual is what to do by hand where action is not available
	// (Unavailable, Explainer).
	manual func(args []string) []bot.Span
	// danger styles the Confirm button red (interrupts or spends).
	danger bool
}

// Need is what a command's action needs on a target besides its files.
type Need int

// Needs.
const (
	NeedNothing   Need = iota
	NeedCLI            // the openclaw CLI (targets[].openclaw_bin)
	NeedRestarter      // a way to restart the gateway
)

// specs is the registry, in the order help and the menus list it. It is
// set in init: its handlers refer to it (help, whoami).
var specs []Spec

func init() {
	specs = []Spec{
		{Name: CmdStatus, Usage: "status [target]", Role: RoleReader, args: argsTarget, run: (*Router).status,
			Summary: "verdict, one line per credential and the findings", Example: "status",
			Menu: "Health of every target"},
		{Name: CmdDiagnose, Usage: "diagnose [target]", Role: RoleReader, args: argsTarget, run: (*Router).diagnose,
			Summary: "every finding with evidence and the commands that fix it", Example: "diagnose",
			Menu: "Every finding with evidence and remedies"},
		{Name: CmdCooldowns, Usage: "cooldowns [target]", Role: RoleReader, args: argsTarget, run: (*Router).cooldowns,
			Summary: "profiles in cooldown (or disabled) and until when", Example: "cooldowns",
			Menu: "Profiles in cooldown"},
		{Name: CmdSilences, Usage: "silences", Role: RoleReader, args: argsNone, run: (*Router).silences,
			Summary: "active silences and maintenance windows", Example: "silences",
			Menu: "Active silences"},
		{Name: CmdWhoami, Usage: "whoami", Role: RoleReader, args: argsNone, run: (*Router).whoami,
			Summary: "your id, your role and where you are", Example: "whoami",
			Menu: "Your Telegram id and role"},
		{Name: CmdHelp, Usage: "help [command]", Role: RoleReader, args: argsTopic, run: (*Router).help,
			Summary: "this list, or one command in detail", Example: "help cooldown reset",
			Menu: "What I can do"},
		{Name: CmdCheck, Usage: "check [target]", Role: RoleResponder, args: argsTarget, run: (*Router).check, Owner: true,
			Summary: "zero-token key check of every Anthropic credential (GET /v1/models; spends nothing)", Example: "check",
			Note: "GET /v1/models with each stored Anthropic key: spends no tokens and writes nothing to OpenClaw.",
			Menu: "Zero-token key check now"},
		{Name: CmdSilence, Usage: "silence <duration> [target] [profile] [code]", Role: RoleResponder, args: argsSilence, run: (*Router).silence,
			Summary: "mute alerts for a while (30m, 2h, 1d; at most 7d), optionally only a target, profile or finding code",
			Example: "silence 2h anthropic:default cooldown.active",
			Note:    "Durations: 30m, 1h, 2h30m, 1d (at least 1m, at most 7d). Without a target, profile or code it silences every alert.",
			Menu:    "Silence alerts"},
		{Name: CmdUnsilence, Usage: "unsilence <id>", Role: RoleResponder, args: argsID, run: (*Router).unsilence,
			Summary: "end a silence early", Example: "unsilence k3j9x2ab",
			Menu: "Remove a silence"},
		{Name: CmdAck, Usage: "ack <incident id>", Role: RoleResponder, args: argsNumber, run: (*Router).ack,
			Summary: "acknowledge an incident (shown on its alert)", Example: "ack 12",
			Menu: "Acknowledge an alert"},
		{Name: CmdDoctor, Usage: "doctor [target]", Role: RoleResponder, args: argsTarget, run: (*Router).doctorLint,
			action: Actions.DoctorLint, manual: manualDoctor, Needs: NeedCLI, Owner: true,
			Summary: "OpenClaw's read-only auth lint", Example: "doctor",
			Menu: "Read-only OpenClaw doctor lint"},
		{Name: CmdCooldownReset, Usage: "cooldown reset <profile|all> [target]", Role: RoleResponder, Confirm: true, args: argsReset,
			run: (*Router).previewReset, action: Actions.ResetCooldown, manual: manualReset, Owner: true,
			Summary: "end a profile's cooldown (all: every profile in a window)", Example: "cooldown reset anthropic:default",
			Note: "The preview shows each profile's window, until when, and what the key check last said; when the key is known rejected it says so: a reset does not fix a bad key.",
			Menu: "Reset a cooldown: <profile|all> (confirm)"},
		{Name: CmdUndo, Usage: "undo <audit id>", Role: RoleResponder, Confirm: true, args: argsNumber,
			run: (*Router).previewUndo, action: Actions.Undo, manual: manualUndo, Owner: true,
			Summary: "restore the backup a cooldown reset took", Example: "undo 42",
			Note: "The audit id is on the reset's reply and in audit.",
			Menu: "Restore the backup a reset took: <audit id> (confirm)"},
		{Name: CmdAudit, Usage: "audit [n]", Role: RoleAdmin, args: argsCount, run: (*Router).audit,
			Summary: "the latest n commands (default 10, at most 50): who, what, where, outcome", Example: "audit 20",
			Menu: "Recent actions (admin)"},
		{Name: CmdRestart, Usage: "restart [target]", Role: RoleAdmin, Confirm: true, args: argsTarget,
			run: onTarget(restartPreview), action: Actions.Restart, manual: manualRestart, Needs: NeedRestarter, danger: true, Owner: true,
			Summary: "restart the OpenClaw gateway", Example: "restart",
			Note: "A restart does not end a cooldown on OpenClaw 2026.9.6 (it is persisted).",
			Menu: "Restart the OpenClaw gateway (admin, confirm)"},
		{Name: CmdDoctorFix, Usage: "doctor fix [target] [profile|all]", Role: RoleAdmin, Confirm: true, args: argsFix,
			run: onTarget(doctorFixPreview), action: Actions.DoctorFix, manual: manualDoctorFix, Needs: NeedCLI, Owner: true,
			Summary: "run openclaw doctor --fix (migrates legacy files, refreshes OAuth logins)", Example: "doctor fix",
			Menu: "Run openclaw doctor --fix (admin, confirm)"},
		{Name: CmdProbeSpend, Usage: "probe --spend [target]", Role: RoleAdmin, Confirm: true, args: argsTarget,
			run: onTarget(probeSpendPreview), action: Actions.ProbeSpend, manual: manualProbeSpend, Needs: NeedCLI, danger: true, Owner: true,
			Summary: "OpenClaw's own probe: a real request per profile that spends tokens", Example: "probe --spend",
			Note: "Spends tokens and records a 30 s cooldown on a 401. Prefer check.",
			Menu: "OpenClaw's token-spending probe (admin, confirm)"},
	}
}

// Specs returns the registry, in the order help lists it.
func Specs() []Spec { return append([]Spec(nil), specs...) }

// SpecOf returns the spec of a canonical command name.
func SpecOf(name string) (Spec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Commands is the registry as a command menu (Telegram's setMyCommands;
// the commands Telegram answers in a group without an @mention).
func Commands() []bot.CommandInfo {
	out := make([]bot.CommandInfo, len(specs))
	for i, s := range specs {
		out[i] = bot.CommandInfo{Name: s.Name, Telegram: TelegramName(s.Name), Description: s.Menu}
	}
	return out
}

// Commands is the package's Commands: the surfaces ask their handler.
func (*Router) Commands() []bot.CommandInfo { return Commands() }

// TelegramName is the Telegram spelling of a command name: "_" for a space,
// no dashes ("probe --spend" → "probe_spend").
func TelegramName(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "--", ""), " ", "_")
}
