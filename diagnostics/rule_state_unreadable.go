package diagnostics

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

var ruleStateUnreadable = Rule{Name: CodeStateUnreadable, Check: func(in *Input) []Finding {
	hard := in.unreadable()
	if len(hard) == 0 {
		return nil
	}
	dir := in.Snap.Location.StateDir
	evidence := strings.Join(hard, "\n")
	runAs := "Run the bot as the user that owns " + dir + " (OpenClaw's files are 0600)."
	if owner, me := in.Snap.StateDirUID, os.Geteuid(); owner >= 0 && owner != me {
		evidence += fmt.Sprintf("\n%s belongs to %s; the bot runs as %s.", dir, uidName(owner), uidName(me))
		runAs = fmt.Sprintf("Run the bot as %s, the owner of %s and the gateway's user (OpenClaw's files are 0600): User= in the systemd unit, user: in compose.", uidName(owner), dir)
	}
	var remedy []string
	var hung, special, other bool
	for _, p := range hard {
		switch {
		case openclaw.IsHungProblem(p):
			if !hung {
				path := problemPath(p)
				remedy = append(remedy, fmt.Sprintf("Find what blocks reading %s: on a hung network mount `stat %s` hangs too (`mount` and `dmesg` name the mount; remount it or restart its NFS/SMB client). "+
					"The bot abandons a read after its timeout and starts a new one only once the stuck read returns.", path, shellQuote(path)))
			}
			hung = true
		case openclaw.IsNotRegularProblem(p):
			if !special {
				path := problemPath(p)
				remedy = append(remedy, fmt.Sprintf("OpenClaw cannot use a special file there either: move it away (`mv %s %s.not-a-file`) and restore the real file from a backup.",
					shellQuote(path), shellQuote(path)))
			}
			special = true
		default:
			other = true
		}
	}
	if other {
		remedy = append(remedy, runAs,
			"A locked database clears by itself when OpenClaw finishes writing; a corrupt one needs `"+in.cmd.run("", "doctor")+"`.")
	}
	return []Finding{{
		Code: CodeStateUnreadable, Severity: Critical, Subject: dir,
		Title:    "Part of OpenClaw's credential state could not be read, so this diagnosis is incomplete",
		Evidence: evidence,
		Remedy:   remedy,
	}}
}}

// problemPath is the path a hung or not-regular-file problem names.
func problemPath(p string) string {
	for _, pre := range []string{"timed out reading ", "still hung: reading "} {
		if rest, ok := strings.CutPrefix(p, pre); ok {
			for _, end := range []string{" after ", " has not returned"} {
				if i := strings.Index(rest, end); i > 0 {
					return rest[:i]
				}
			}
		}
	}
	if i := strings.Index(p, " is not a regular file ("); i > 0 {
		p = p[:i]
		for _, pre := range []string{"compose file ", "compose env_file "} {
			p = strings.TrimPrefix(p, pre)
		}
	}
	return p
}

// unreadable lists what could not be read: the state is partly unknown
// (a gateway whose environment may not be read is the env rules' business).
func (in *Input) unreadable() []string {
	var hard []string
	for _, p := range in.Snap.Problems {
		if strings.Contains(p, "environment is not readable") {
			continue
		}
		hard = append(hard, p)
	}
	return hard
}

// uidName is "uid 1000 (node)", or "uid 1000" when it has no name here.
func uidName(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}
