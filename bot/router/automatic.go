package router

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ErrBusy means another action runs on the target: the action did not
// start and changed nothing (actions.ErrBusy is this error).
var ErrBusy = errors.New("another action is running on this target")

// SurfaceScheduler is the audit surface of what the bot does by itself.
const SurfaceScheduler = "scheduler"

// AutomaticReset is a cooldown reset the bot decided itself
// (recovery.reset_after_rotation), not a person.
type AutomaticReset struct {
	// Actor is who the audit row and the reply name.
	Actor string
	// Setting is the config key that allowed it (for the reply).
	Setting  string
	Target   string
	Profiles []string
	// State is the profiles' usage state the decision was made on: like a
	// Confirm and its preview, the action changes nothing unless the state
	// is still exactly that.
	State   openclaw.Windows
	Verdict string
	// Why: one line per profile (the findings' titles).
	Why []string
}

// ResetAutomatically runs a cooldown reset through the very action a
// Confirm calls (backup, the guarded write, gateway refresh, zero-token
// verification), writes its audit row (actor a.Actor, surface scheduler,
// the state it was decided on as "before", the backup for undo) and returns
// the reply to announce, whose footer names the actor, the audit id and
// the undo command. It returns an error and writes nothing when the action
// did not start: another action runs on the target (ErrBusy) or the state
// is no longer the one decided on (ErrChangedSincePreview).
func (r *Router) ResetAutomatically(ctx context.Context, a AutomaticReset) (bot.Message, error) {
	who := Who{Surface: SurfaceScheduler, UserID: a.Actor, Name: a.Actor, Where: SurfaceScheduler}
	start := time.Now()
	ctx = r.tag(ctx)
	ids := slices.Clone(a.Profiles)
	ws := a.State.Of(ids)
	shown := &shownState{Profiles: ids, Windows: ws, Digest: ws.Digest()}
	cmd := Command{Name: CmdCooldownReset, Target: a.Target}
	st := previewState{Command: strings.TrimSpace(CmdCooldownReset + " " + strings.Join(ids, " ")), Target: a.Target, Args: ids,
		Verdict: a.Verdict, State: shown, Why: a.Why}
	before, err := json.Marshal(st)
	if err != nil {
		return bot.Message{}, err
	}
	actx, n := withNote(ctx)
	actx = withExpected(actx, shown)
	msg, err := call(actx, r.actions, CmdCooldownReset, a.Target, ids)
	if errors.Is(err, ErrBusy) || errors.Is(err, ErrChangedSincePreview) {
		return bot.Message{}, err
	}
	backup, after := n.get()
	res := result{command: CmdCooldownReset, args: append([]string{a.Target}, ids...), before: before, after: after, backup: backup,
		confirmed: true, by: "Done by " + a.Actor}
	if err != nil {
		res.outcome, res.err = OutcomeFailed, err.Error()
		msg.Severity = bot.SevCritical
		msg.Text = append([]bot.Span{bot.T(err.Error() + "\n")}, msg.Text...)
		trimText(&msg)
	}
	title := "Reset after a key rotation on " + targetName(a.Target) + ": " + strings.Join(ids, ", ")
	if err != nil {
		title = "Reset after a key rotation on " + targetName(a.Target) + " failed: " + strings.Join(ids, ", ")
	}
	msg.Title = title
	intro := "The key changed after the window began and Anthropic accepts the new one"
	if a.Setting != "" {
		intro += "; " + a.Setting + " is on, so the bot reset it itself"
	}
	lead := []bot.Span{bot.T(intro + ":\n")}
	for _, w := range a.Why {
		lead = append(lead, bot.T("• "+w+"\n"))
	}
	msg.Text = append(lead, msg.Text...)
	msg.Kind = bot.KindReply
	msg.Target = a.Target
	res.msg = msg
	rep := r.finish(ctx, who, start, cmd, res)
	return rep.Message, nil
}
