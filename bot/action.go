package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxActionBytes is the longest button payload: Telegram callback data is
// at most 64 bytes (Slack carries the same string as the button's value).
const MaxActionBytes = 64

// Verb is what a button does.
type Verb string

// Verbs. The alert buttons open exactly what the typed command would; the
// preview buttons act on a pending action.
const (
	VerbReset   Verb = "reset"   // Arg: a profile id, or "all"; For: its target ("" = ask) → cooldown reset
	VerbCheck   Verb = "check"   // Arg: a target ("" = the only one) → check
	VerbSilence Verb = "silence" // Arg: a target, For: a duration ("1h") → silence
	VerbConfirm Verb = "ok"      // Arg: a pending action's id → Confirm
	VerbCancel  Verb = "no"      // Arg: a pending action's id → Cancel
)

// Action is a button's payload, typed: Button.Action and Press.Action carry
// its Format, "<verb>:<arg>" ("silence:<target>:<duration>",
// "reset:<profile>|<target>"). The scheduler
// writes the alert buttons, the router the preview buttons and parses every
// press; the surfaces only carry the string (Telegram also tells a preview
// by its Confirm/Cancel payloads).
type Action struct {
	Verb Verb
	// Arg is the profile id, target or pending id. An alert button's Arg
	// may have been cut to fit MaxActionBytes: match it with ArgMatches.
	Arg string
	// For is how long a silence lasts, as chat writes it ("1h", "2h30m");
	// for a reset, the target whose alert carries the button (many
	// targets, of one instance or a fleet, share profile ids), cut like
	// Arg when long; "" on buttons written before it was added.
	For string
}

// maxResetTarget bounds a reset button's target so that the profile keeps
// most of the 64 bytes.
const maxResetTarget = 24

// Format writes a as a button payload of at most MaxActionBytes: a too long
// Arg is cut (at a rune boundary) and tagged with "~" and the first 8 hex
// digits of its SHA-256 (see ArgMatches).
func (a Action) Format() string {
	prefix, suffix := string(a.Verb)+":", ""
	switch {
	case a.Verb == VerbSilence:
		suffix = ":" + a.For
	case a.Verb == VerbReset && (a.For != "" || strings.Contains(a.Arg, "|")):
		// The last "|" separates the target (a profile id may hold one).
		t := a.For
		if len(t) > maxResetTarget {
			t = shortArg(t, maxResetTarget)
		}
		suffix = "|" + t
	}
	if len(prefix)+len(a.Arg)+len(suffix) <= MaxActionBytes {
		return prefix + a.Arg + suffix
	}
	return prefix + shortArg(a.Arg, MaxActionBytes-len(prefix)-len(suffix)) + suffix
}

// Button is a button that carries a.
func (a Action) Button(text, style string) Button {
	return Button{Text: text, Action: a.Format(), Style: style}
}

// Errors of ParseAction: sentences shown to the presser as they are.
var (
	errUnknownButton = errors.New("unknown button.")
	errNoProfile     = errors.New("the button names no profile.")
	errNoDuration    = errors.New("the button names no duration.")
	errNoPending     = errors.New("the button names no confirmation.")
)

// ParseAction reads a button payload. It refuses what no Format writes:
// more than MaxActionBytes, invalid UTF-8, an unknown verb, a reset without
// a profile, a silence without a duration, a pending id that is not 1-32
// letters, digits, '-' or '_'. "reset:ALL" reads as "reset:all".
func ParseAction(s string) (Action, error) {
	if len(s) > MaxActionBytes || !utf8.ValidString(s) {
		return Action{}, errUnknownButton
	}
	verb, arg, ok := strings.Cut(s, ":")
	if !ok {
		return Action{}, errUnknownButton
	}
	a := Action{Verb: Verb(verb), Arg: arg}
	switch a.Verb {
	case VerbReset:
		if i := strings.LastIndexByte(arg, '|'); i >= 0 {
			a.Arg, a.For = arg[:i], arg[i+1:]
			if a.For == "" && !strings.Contains(a.Arg, "|") || len(a.For) > maxResetTarget {
				return Action{}, errUnknownButton // Format writes no empty or longer target
			}
		}
		if a.Arg == "" {
			return Action{}, errNoProfile
		}
		if strings.EqualFold(a.Arg, "all") {
			a.Arg = "all"
		}
	case VerbCheck:
	case VerbSilence:
		i := strings.LastIndexByte(arg, ':')
		if i < 0 || !durationWord(arg[i+1:]) {
			return Action{}, errNoDuration
		}
		a.Arg, a.For = arg[:i], arg[i+1:]
	case VerbConfirm, VerbCancel:
		if !pendingID(arg) {
			return Action{}, errNoPending
		}
	default:
		return Action{}, errUnknownButton
	}
	return a, nil
}

// ArgMatches reports whether an Action's Arg, as Format may have cut it,
// stands for full: equal, or full's cut-and-hashed form.
func ArgMatches(arg, full string) bool {
	if arg == full {
		return true
	}
	i := strings.LastIndexByte(arg, '~')
	if i < 0 || len(arg)-i != 9 || !strings.HasPrefix(full, arg[:i]) {
		return false
	}
	sum := sha256.Sum256([]byte(full))
	return arg[i+1:] == hex.EncodeToString(sum[:4])
}

func shortArg(arg string, room int) string {
	sum := sha256.Sum256([]byte(arg))
	tag := "~" + hex.EncodeToString(sum[:4])
	cut := arg[:min(max(room-len(tag), 0), len(arg))]
	for cut != "" && !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	return cut + tag
}

// durationWord: what a duration may look like (the router parses it).
func durationWord(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// pendingID: 1-32 of [A-Za-z0-9_-] (the store's ids are 16 base32 letters).
func pendingID(s string) bool {
	return s != "" && len(s) <= 32 &&
		strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") == ""
}
