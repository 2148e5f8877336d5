package diagnostics

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
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
	return []Finding{{
		Code: CodeStateUnreadable, Severity: Critical, Subject: dir,
		Title:    "Part of OpenClaw's credential state could not be read, so this diagnosis is incomplete",
		Evidence: evidence,
		Remedy: []string{
			runAs,
			"A locked database clears by itself when OpenClaw finishes writing; a corrupt one needs `" + in.cmd.run("", "doctor") + "`.",
		},
	}}
}}

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
