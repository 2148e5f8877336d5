package router

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openclaw-bot/openclaw-bot/internal/text"
)

// Command names (CONTRACT.md "Chat": fixed).
const (
	CmdStatus        = "status"
	CmdDiagnose      = "diagnose"
	CmdCheck         = "check"
	CmdCooldowns     = "cooldowns"
	CmdCooldownReset = "cooldown reset"
	CmdUndo          = "undo"
	CmdRestart       = "restart"
	CmdDoctor        = "doctor"
	CmdDoctorFix     = "doctor fix"
	CmdProbeSpend    = "probe --spend"
	CmdSilence       = "silence"
	CmdSilences      = "silences"
	CmdUnsilence     = "unsilence"
	CmdAck           = "ack"
	CmdAudit         = "audit"
	CmdWhoami        = "whoami"
	CmdHelp          = "help"
)

// MaxSilence is the longest silence a chat command may set.
const MaxSilence = 7 * 24 * time.Hour

// maxInput is the longest command text parsed; longer input is refused.
const maxInput = 2000

// argShape is how a command's arguments are parsed (Parse) and written
// back (Command.Args); each Spec names its own.
type argShape int

const (
	argsNone    argShape = iota
	argsTarget           // [target]
	argsReset            // <profile|all> [target]
	argsNumber           // <number>
	argsID               // <id>
	argsSilence          // <duration> [target] [profile] [code]
	argsCount            // [n]
	argsTopic            // [command]
	argsFix              // [target] [profile|all]: OAuth logins doctor --fix may refresh
)

// Command is one parsed command. Its fields are what the grammar allows for
// Name; the others are zero.
type Command struct {
	Name     string        // canonical name, e.g. "cooldown reset"
	Target   string        // a known target name; "" = not given
	Profile  string        // cooldown reset: a profile id or "all"; silence: a profile filter
	Code     string        // silence: a finding code filter
	Duration time.Duration // silence
	ID       string        // undo, ack: a positive number; unsilence: the silence id
	N        int           // audit: how many entries; 0 = default
	Topic    string        // help: a canonical command name
}

// Args returns the command's arguments in grammar order, as they would be
// typed: String() = Name + " " + Args joined by spaces.
func (c Command) Args() []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	spec, _ := SpecOf(c.Name)
	switch spec.args {
	case argsReset:
		add(c.Profile)
		add(c.Target)
	case argsSilence:
		add(FormatDuration(c.Duration))
		add(c.Target)
		add(c.Profile)
		add(c.Code)
	case argsFix:
		add(c.Target)
		add(c.Profile)
	case argsNumber, argsID:
		add(c.ID)
	case argsCount:
		if c.N > 0 {
			add(strconv.Itoa(c.N))
		}
	case argsTopic:
		add(c.Topic)
	default:
		add(c.Target)
	}
	return out
}

// String is the command as it would be typed.
func (c Command) String() string {
	return strings.Join(append([]string{c.Name}, c.Args()...), " ")
}

// ParseError is a command that could not be parsed. Its texts never
// contain more of the input than the offending word (cut to 40 runes).
type ParseError struct {
	Msg     string // what is wrong
	Usage   string // the exact usage of the command (or of Suggest)
	Suggest string // unknown command: the closest command name
	Unknown bool   // the command word itself is unknown
	Target  bool   // a word is no known target (a fleet may have just added it)
}

func (e *ParseError) Error() string {
	s := e.Msg
	if e.Suggest != "" {
		s += fmt.Sprintf("; did you mean %q?", e.Suggest)
	}
	if e.Usage != "" {
		s += "; usage: " + e.Usage
	}
	return s
}

// aliases point words people type at the command they probably mean; they
// only feed suggestions, never run anything.
var aliases = map[string]string{
	"reset": CmdCooldownReset, "clear": CmdCooldownReset, "cooldown": CmdCooldownReset,
	"fix": CmdDoctorFix, "probe": CmdProbeSpend, "spend": CmdProbeSpend,
	"mute": CmdSilence, "snooze": CmdSilence, "unmute": CmdUnsilence,
	"acknowledge": CmdAck, "history": CmdAudit, "log": CmdAudit,
	"me": CmdWhoami, "who": CmdWhoami, "?": CmdHelp, "commands": CmdHelp,
	"lint": CmdDoctor, "health": CmdStatus, "diag": CmdDiagnose, "recheck": CmdCheck,
	"reboot": CmdRestart,
}

// Parse parses one command line. targets are the known target names (a
// word that is one of them is a target). Surface syntax is tolerated: a
// leading "/" or "/openclaw", "@botname" after the command word, Telegram's
// "_" for a space ("cooldown_reset") and Slack's auto-corrected dashes
// ("—spend"). Command words are case-insensitive; arguments are not, except
// for target names (matched exactly first, then case-insensitively) and
// silence ids.
func Parse(text string, targets []string) (Command, error) {
	if len(text) > maxInput {
		return Command{}, &ParseError{Msg: fmt.Sprintf("command too long (%d bytes; at most %d)", len(text), maxInput)}
	}
	words := strings.Fields(strings.ToValidUTF8(text, "\uFFFD"))
	words = normalizeHead(words)
	if len(words) == 0 {
		return Command{Name: CmdHelp}, nil
	}
	spec, rest, ok := matchSpec(words)
	if !ok {
		return Command{}, unknownCommand(words)
	}
	cmd := Command{Name: spec.Name}
	bad := func(format string, a ...any) (Command, error) {
		return Command{}, &ParseError{Msg: fmt.Sprintf(format, a...), Usage: spec.Usage}
	}
	switch spec.args {
	case argsNone:
		if len(rest) > 0 {
			return bad("%s takes no arguments (got %s)", spec.Name, quote(rest[0]))
		}
	case argsTarget, argsReset, argsSilence, argsFix:
		for _, w := range rest {
			if err := cmd.classify(spec, w, targets); err != nil {
				return Command{}, err
			}
		}
		if spec.args == argsReset && cmd.Profile == "" {
			return bad("say which profile to reset (a profile id like anthropic:default, or all)")
		}
		if spec.args == argsSilence && cmd.Duration == 0 {
			return bad("say how long to silence (e.g. 30m, 2h, 1d; at most 7d)")
		}
	case argsNumber:
		if len(rest) != 1 {
			return bad("%s takes exactly one %s", spec.Name, strings.Trim(spec.Usage[len(spec.Name)+1:], "<>"))
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64)
		if err != nil || n <= 0 {
			return bad("%s is not an id (a positive number like 42)", quote(rest[0]))
		}
		cmd.ID = strconv.FormatInt(n, 10)
	case argsID:
		if len(rest) != 1 {
			return bad("%s takes exactly one silence id (see silences)", spec.Name)
		}
		id := strings.ToLower(rest[0])
		if !validSilenceID(id) {
			return bad("%s is not a silence id (letters and digits, like k3j9x2ab; see silences)", quote(rest[0]))
		}
		cmd.ID = id
	case argsCount:
		if len(rest) > 1 {
			return bad("audit takes at most one number")
		}
		if len(rest) == 1 {
			n, err := strconv.Atoi(rest[0])
			if err != nil || n <= 0 || n > 50 {
				return bad("%s is not a number from 1 to 50", quote(rest[0]))
			}
			cmd.N = n
		}
	case argsTopic:
		if len(rest) > 0 {
			topic, more, ok := matchSpec(normalizeHead(rest))
			if !ok || len(more) > 0 {
				perr := unknownCommand(normalizeHead(rest))
				perr.Msg = "no help for " + quote(strings.Join(rest, " "))
				perr.Usage, perr.Unknown = spec.Usage, false
				return Command{}, perr
			}
			cmd.Topic = topic.Name
		}
	}
	return cmd, nil
}

// classify files one argument word of a [target]/reset/silence command.
func (c *Command) classify(spec Spec, w string, targets []string) error {
	bad := func(format string, a ...any) error {
		return &ParseError{Msg: fmt.Sprintf(format, a...), Usage: spec.Usage}
	}
	takesProfile := spec.args == argsReset || spec.args == argsSilence || spec.args == argsFix
	if t, ok := matchTarget(w, targets); ok {
		if c.Target != "" {
			return bad("two targets given (%s and %s); one at a time", quote(c.Target), quote(t))
		}
		c.Target = t
		return nil
	}
	switch {
	case strings.Contains(w, ":") || ((spec.args == argsReset || spec.args == argsFix) && strings.EqualFold(w, "all")):
		if !takesProfile {
			return bad("%s takes no profile id (got %s)", spec.Name, quote(w))
		}
		if c.Profile != "" {
			return bad("two profiles given (%s and %s); one at a time, or all", quote(c.Profile), quote(w))
		}
		if strings.EqualFold(w, "all") {
			w = "all"
		}
		c.Profile = w
		return nil
	case spec.args == argsSilence && looksLikeDuration(w):
		if c.Duration != 0 {
			return bad("two durations given (%s and %s)", FormatDuration(c.Duration), quote(w))
		}
		d, err := ParseDuration(w)
		if err != nil {
			return bad("%v", err)
		}
		c.Duration = d
		return nil
	case spec.args == argsSilence && isCode(w):
		if c.Code != "" {
			return bad("two finding codes given (%s and %s)", quote(c.Code), quote(w))
		}
		c.Code = strings.ToLower(w)
		return nil
	case strings.HasPrefix(w, "-"):
		return bad("%s has no option %s", spec.Name, quote(w))
	}
	err := bad("unknown target %s (targets: %s)", quote(w), strings.Join(targets, ", "))
	if len(targets) == 0 {
		err = bad("unknown target %s (this bot has no named targets)", quote(w))
	}
	err.(*ParseError).Target = true
	return err
}

// matchTarget finds w among targets: exactly, else case-insensitively when
// that is unambiguous.
func matchTarget(w string, targets []string) (string, bool) {
	found := ""
	for _, t := range targets {
		if t == w {
			return t, true
		}
		if strings.EqualFold(t, w) {
			if found != "" {
				return "", false
			}
			found = t
		}
	}
	return found, found != ""
}

// normalizeHead strips surface syntax from the command word(s): "/",
// "/openclaw", "@bot", Telegram's "_" for a space and dash look-alikes.
func normalizeHead(words []string) []string {
	if len(words) == 0 {
		return words
	}
	w := strings.TrimPrefix(words[0], "/")
	if i := strings.IndexByte(w, '@'); i >= 0 {
		w = w[:i]
	}
	if w == "" || strings.EqualFold(w, "openclaw") {
		return normalizeHead(words[1:])
	}
	head := strings.Split(strings.ToLower(w), "_")
	out := make([]string, 0, len(words)+len(head))
	for _, h := range head {
		if h != "" {
			out = append(out, h)
		}
	}
	out = append(out, words[1:]...)
	if len(out) > 1 {
		// Only command words are lowercased; "--spend" may have been
		// auto-corrected to an em or en dash, and Telegram has no "--".
		second := strings.ToLower(out[1])
		for _, d := range []string{"—", "–", "−"} {
			second = strings.Replace(second, d, "--", 1)
		}
		for _, s := range specs { // "Doctor --FIX", "probe spend": the registry's second word
			if first, rest, ok := strings.Cut(s.Name, " "); ok && first == out[0] && strings.TrimLeft(second, "-") == strings.TrimLeft(rest, "-") {
				out[1] = rest
			}
		}
	}
	return out
}

// matchSpec finds the command the words start with (longest name first).
func matchSpec(words []string) (Spec, []string, bool) {
	var best Spec
	bestLen := 0
	for _, s := range specs {
		name := strings.Fields(s.Name)
		if len(name) > len(words) || len(name) <= bestLen {
			continue
		}
		ok := true
		for i, n := range name {
			if words[i] != n {
				ok = false
				break
			}
		}
		if ok {
			best, bestLen = s, len(name)
		}
	}
	if bestLen == 0 {
		return Spec{}, nil, false
	}
	return best, words[bestLen:], true
}

// unknownCommand builds the error for words that start no command, with
// the closest command by edit distance (or by alias).
func unknownCommand(words []string) *ParseError {
	if len(words) == 0 {
		return &ParseError{Msg: "empty command", Suggest: CmdHelp, Usage: "help [command]", Unknown: true}
	}
	typed := strings.ToLower(words[0])
	msg := "unknown command " + quote(words[0])
	switch {
	case typed == "cooldown" && len(words) > 1:
		msg = quote("cooldown") + " needs a subcommand"
	case typed == "probe":
		msg = quote("probe") + " needs --spend (it spends tokens; the free key check is check)"
	}
	name := suggest(words)
	s, _ := SpecOf(name)
	return &ParseError{Msg: msg, Suggest: name, Usage: s.Usage, Unknown: true}
}

// suggest returns the command name closest to what was typed, or "" when
// none is close (a couple of typos; more in a long word): "foo" gets no
// guess, only the pointer to help.
func suggest(words []string) string {
	first := strings.ToLower(words[0])
	if first == "cooldown" && len(words) == 1 {
		return CmdCooldowns
	}
	if a, ok := aliases[first]; ok {
		return a
	}
	// Compare as many typed words as the name has; on a tie the name that
	// matched more words wins ("doctr fix" is "doctor fix", not "doctor").
	limit := max(2, utf8.RuneCountInString(first)/4)
	best, bestD, bestN := "", limit+1, 0
	for _, s := range specs {
		name := strings.Fields(s.Name)
		n := min(len(name), len(words))
		typed := strings.ToLower(strings.Join(words[:n], " "))
		d := text.Levenshtein(typed, s.Name, limit)
		if len(name) > 1 { // "cooldownreset": the name typed as one word
			if d1 := text.Levenshtein(first, strings.Join(name, ""), limit); d1 < d {
				d, n = d1, len(name)
			}
		}
		if d <= limit && (d < bestD || d == bestD && n > bestN) {
			best, bestD, bestN = s.Name, d, n
		}
	}
	return best
}

// ParseDuration parses a chat duration: one or more <number><unit> with
// units d, h, m, s in that order, e.g. 30m, 1h, 2h30m, 1d, 1d12h. The
// result is at least 1 minute and at most MaxSilence.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.ToLower(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	units := []struct {
		c byte
		d time.Duration
	}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}, {'s', time.Second}}
	var total time.Duration
	next := 0
	for in != "" {
		i := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == 0 || i == len(in) || i > 6 {
			return 0, fmt.Errorf("%s is not a duration (like 30m, 2h, 2h30m, 1d)", quote(s))
		}
		n, _ := strconv.Atoi(in[:i])
		u := -1
		for k := next; k < len(units); k++ {
			if units[k].c == in[i] {
				u = k
				break
			}
		}
		if u < 0 {
			return 0, fmt.Errorf("%s is not a duration (like 30m, 2h, 2h30m, 1d)", quote(s))
		}
		total += time.Duration(n) * units[u].d
		if total > MaxSilence {
			return 0, fmt.Errorf("%s is too long: at most 7d", quote(s))
		}
		next = u + 1
		in = in[i+1:]
	}
	if total < time.Minute {
		return 0, fmt.Errorf("%s is too short: at least 1m", quote(s))
	}
	return total, nil
}

// looksLikeDuration: starts with a digit (a target or code never does in
// practice; a known target name still wins, it is matched first).
func looksLikeDuration(w string) bool {
	return w != "" && w[0] >= '0' && w[0] <= '9'
}

// FormatDuration writes d the way ParseDuration reads it: 1d, 2h30m, 45m.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if s := d / time.Second; s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

// isCode: a finding code like cooldown.active or log.no_api_key.
func isCode(w string) bool {
	dot := strings.IndexByte(w, '.')
	if dot <= 0 || dot == len(w)-1 || len(w) > 64 {
		return false
	}
	for _, r := range strings.ToLower(w) {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func validSilenceID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// quote shows a user's word in a reply: quoted, cut to 40 runes.
func quote(s string) string {
	return strconv.Quote(text.Truncate(s, 40))
}
