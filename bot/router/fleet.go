package router

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	txt "github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// Fleet is the rest of a fleet of instances sharing one PostgreSQL
// database (package fleet): who owns which target, and a way to run a
// command on that owner. nil: this instance is alone.
type Fleet interface {
	// Remote names the instance that owns target when it is another one
	// (false: this instance's target, or one nobody owns).
	Remote(target string) (Owner, bool)
	// Forward hands a typed command (req) or a button press (p) to the
	// owner of target and returns the owner's reply.
	Forward(ctx context.Context, target string, req *bot.Request, p *bot.Press) (bot.Reply, error)
	// Refresh reads again who owns what (a command named a target this
	// instance does not know yet).
	Refresh(ctx context.Context)
}

// Owner is the instance that owns a target.
type Owner struct {
	Instance string
	// SilentSince is when it missed its third heartbeat (zero: alive).
	SilentSince time.Time
}

// forward runs a Spec.Owner command on the owner of its target when that
// is another instance: the owner previews, checks Confirm and audits; the
// reply comes back here. ok is false when the command runs here. The role
// is checked here first (and again on the owner).
func (r *Router) forward(ctx context.Context, who Who, start time.Time, cmd Command, req *bot.Request, p *bot.Press) (bot.Reply, bool) {
	if r.fleet == nil {
		return bot.Reply{}, false
	}
	spec, ok := SpecOf(cmd.Name)
	if !ok || !spec.Owner {
		return bot.Reply{}, false
	}
	target := cmd.Target
	switch {
	case cmd.Name == CmdUndo:
		target = r.undoTarget(ctx, cmd)
	case target == "" && cmd.Name == CmdCooldownReset:
		target = r.resetTarget(ctx, cmd)
	case target == "":
		if ts := r.targets(); len(ts) == 1 {
			target = ts[0]
		}
	}
	owner, remote := r.fleet.Remote(target)
	if !remote {
		return bot.Reply{}, false
	}
	if req != nil && cmd.Target == "" && cmd.Name != CmdUndo {
		// The owner sees the same fleet, but name the target it was
		// found on: what the asker resolved is what the owner previews.
		c := cmd
		c.Target = target
		fwd := *req
		fwd.Text = c.String()
		req = &fwd
	}
	if res, ok := r.authorize(who, spec); !ok {
		return r.finish(ctx, who, start, cmd, res), true
	}
	return r.forwardTo(ctx, who, start, cmd, owner, target, req, p), true
}

// forwardTo hands the command or press to owner, or refuses when that
// cannot work (the owner is silent, or this is already a forwarded one).
func (r *Router) forwardTo(ctx context.Context, who Who, start time.Time, cmd Command, owner Owner, target string, req *bot.Request, p *bot.Press) bot.Reply {
	if from := bot.ForwardedFrom(ctx); from != "" {
		res := refusal("Target "+target+" moved to instance "+owner.Instance,
			bot.T("This instance no longer owns it; try the command again."))
		res.err = "forwarded for a target this instance does not own"
		return r.finish(ctx, who, start, cmd, res)
	}
	if !owner.SilentSince.IsZero() {
		res := refusal(fmt.Sprintf("Not done: %s is watched by instance %s, silent since %s (%s)", target, owner.Instance,
			owner.SilentSince.UTC().Format("15:04:05 MST"), txt.Duration(r.now().Sub(owner.SilentSince), "")+" ago"),
			bot.T("Actions on a target run on the instance that owns it; they are refused until it beats again. "),
			bot.C("status "+target), bot.T(" shows its last report."))
		res.err = "owner " + owner.Instance + " is silent"
		return r.finish(ctx, who, start, cmd, res)
	}
	rep, err := r.fleet.Forward(ctx, target, req, p)
	if err != nil {
		res := failure("Could not reach instance "+owner.Instance+", which watches "+target, err)
		return r.finish(ctx, who, start, cmd, res)
	}
	// The owner wrote the audit row and counted the command; this
	// instance logs that it handed it on.
	r.log.Info().Str("surface", who.Surface).Str("user", who.UserID).Str("command", cmdName(cmd)).
		Str("target", target).Str("owner", owner.Instance).Dur("took", time.Since(start)).
		Str("req", bot.RequestID(ctx)).Msg("command forwarded to the target's owner")
	rep.Message = r.scrubMessage(rep.Message)
	return rep
}

func cmdName(cmd Command) string {
	if cmd.Name == "" {
		return "(button)"
	}
	return cmd.Name
}

// resetTarget is the one target where a reset without a target would act
// (its profile in a window there, or the only target that has it); ""
// when none or several: the reset is answered here (nothing to reset, or
// "which target?").
func (r *Router) resetTarget(ctx context.Context, cmd Command) string {
	if r.diag == nil {
		return ""
	}
	hits, _, _, _ := r.resetHits(ctx, cmd)
	var active []string
	for _, h := range hits {
		if len(h.sel) > 0 {
			active = append(active, h.target)
		}
	}
	switch {
	case len(active) == 1:
		return active[0]
	case len(active) == 0 && len(hits) == 1:
		return hits[0].target
	}
	return ""
}

// undoTarget is the target of the reset an undo restores ("" when unknown:
// the undo is answered here).
func (r *Router) undoTarget(ctx context.Context, cmd Command) string {
	if r.store == nil {
		return ""
	}
	id, err := strconv.ParseInt(cmd.ID, 10, 64)
	if err != nil {
		return ""
	}
	e, err := r.store.AuditEntry(ctx, id)
	if err != nil || len(e.Args) == 0 {
		return ""
	}
	return e.Args[0]
}

// forwardPress routes a Confirm or Cancel to the owner of the preview's
// target (the pending confirmation lives in the shared store; the owner
// takes it).
func (r *Router) forwardPress(ctx context.Context, who Who, start time.Time, pendingID string, p bot.Press) (bot.Reply, bool) {
	if r.fleet == nil || r.store == nil {
		return bot.Reply{}, false
	}
	target, err := r.store.PendingTarget(ctx, pendingID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			r.log.Warn().Err(err).Msg("pending confirmation lookup")
		}
		return bot.Reply{}, false // answered here: expired, unknown
	}
	owner, remote := r.fleet.Remote(target)
	if !remote {
		return bot.Reply{}, false
	}
	return r.forwardTo(ctx, who, start, Command{}, owner, target, nil, &p), true
}
