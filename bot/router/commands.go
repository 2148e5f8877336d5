package router

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// run checks the role and runs a parsed command with its registry entry.
func (r *Router) run(ctx context.Context, who Who, cmd Command) result {
	spec, ok := SpecOf(cmd.Name)
	if !ok || spec.run == nil {
		return refusal("Unknown command " + quote(cmd.Name))
	}
	if res, ok := r.authorize(who, spec); !ok {
		return res
	}
	return spec.run(r, ctx, who, cmd)
}

// authorize refuses when who's role is below spec's. The refusal names the
// role needed and the caller's own id, never who has the role.
func (r *Router) authorize(who Who, spec Spec) (result, bool) {
	have := r.access.role(who)
	if have >= spec.Role {
		return result{}, true
	}
	id := who.UserID
	if id == "" {
		id = "(none)"
	}
	var res result
	if spec.Role == RoleReader {
		res = refusal("Not allowed here: reading in "+placeName(who)+" needs the viewer role",
			bot.T("Anyone may read in the places listed in "+listName(who)+" (empty: the alert "+placeKind(who)+" only). "),
			bot.T("Elsewhere, direct messages included, "), bot.C(spec.Name), bot.T(" needs the viewer role (access.viewers). "),
			bot.T("Your id is "), bot.C(id), bot.T("; an admin of the bot can add it to the config."))
	} else {
		lists := "access." + spec.Role.String() + "s"
		if spec.Role == RoleResponder {
			lists += " (or access.admins)"
		}
		res = refusal(fmt.Sprintf("Not allowed: %s needs the %s role", spec.Name, spec.Role),
			bot.T(fmt.Sprintf("Your role in %s is %s. Roles are given by user id in the bot's config: %s. ", placeName(who), have, lists)),
			bot.T("Your id is "), bot.C(id), bot.T("."))
	}
	res.err = fmt.Sprintf("%s needs the %s role; caller has %s", spec.Name, spec.Role, have)
	need := spec.Role
	if need == RoleReader {
		need = RoleViewer
	}
	res.toast = "Needs the " + need.String() + " role"
	return res, false
}

func placeKind(w Who) string {
	if w.Surface == bot.SurfaceTelegram {
		return "chat"
	}
	return "channel"
}

// ---- read-only commands ----

// reports diagnoses target, or every target when it is "".
func (r *Router) reports(ctx context.Context, target string, probe bool) []targetReport {
	names := []string{target}
	if target == "" {
		if ts := r.targets(); len(ts) > 0 {
			names = ts
		}
	}
	one := func(n string) targetReport {
		tr := targetReport{name: n}
		if r.diag == nil {
			tr.err = errors.New("no install is configured for chat commands")
		} else {
			tr.rep, tr.err = r.diag.Report(ctx, n, probe)
			if tr.err == nil && tr.name == "" {
				tr.name = tr.rep.Target
			}
		}
		return tr
	}
	if len(names) == 1 {
		return []targetReport{one(names[0])}
	}
	// Concurrently (a few at a time): a target whose read hangs until its
	// timeout holds up no other, and several hung ones cost one timeout.
	out := make([]targetReport, len(names))
	sem := make(chan struct{}, 8)
	panics := make([]any, len(names)) // re-raised below: the router's recover reports them, as before
	var wg sync.WaitGroup
	for i, n := range names {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() {
				panics[i] = recover()
				<-sem
			}()
			out[i] = one(n)
		})
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	return out
}

// readResult is ok when at least one report exists, failed otherwise.
func readResult(msg bot.Message, trs []targetReport) result {
	res := result{msg: msg}
	var errs []string
	for _, tr := range trs {
		if tr.err != nil {
			errs = append(errs, tr.name+": "+tr.err.Error())
		}
	}
	if len(errs) == len(trs) {
		res.outcome = OutcomeFailed
	}
	res.err = strings.Join(errs, "; ")
	return res
}

func (r *Router) status(ctx context.Context, _ Who, cmd Command) result {
	trs := r.reports(ctx, cmd.Target, false)
	return readResult(statusMessage("", trs), trs)
}

func (r *Router) check(ctx context.Context, _ Who, cmd Command) result {
	trs := r.reports(ctx, cmd.Target, true)
	return readResult(statusMessage("Key check", trs), trs)
}

func (r *Router) diagnose(ctx context.Context, _ Who, cmd Command) result {
	trs := r.reports(ctx, cmd.Target, false)
	return readResult(diagnoseMessage(trs), trs)
}

func (r *Router) cooldowns(ctx context.Context, _ Who, cmd Command) result {
	trs := r.reports(ctx, cmd.Target, false)
	return readResult(cooldownsMessage(trs, r.now(), len(r.targets()) > 1), trs)
}

func (r *Router) whoami(_ context.Context, who Who, _ Command) result {
	role := r.access.role(who)
	id := who.UserID
	if id == "" {
		id = "(none)"
	}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Title: "You are " + who.display() + ": " + role.String()}
	add := func(s ...bot.Span) { m.Text = append(m.Text, s...) }
	add(bot.T("id "), bot.C(id))
	if who.Name != "" {
		add(bot.T(" · name " + who.Name + " (display only; access uses the id)"))
	}
	add(bot.T("\nrole "), bot.B(role.String()))
	switch role {
	case RoleAdmin:
		if who.Surface == bot.SurfaceConsole {
			add(bot.T(" (the console is the local operator)"))
		} else {
			add(bot.T(" (access.admins)"))
		}
	case RoleResponder:
		add(bot.T(" (access.responders)"))
	case RoleViewer:
		add(bot.T(" (access.viewers)"))
	case RoleReader:
		add(bot.T(" (anyone may read here)"))
	}
	add(bot.T("\nwhere " + who.Surface + ", " + placeName(who)))
	if who.Where != "" {
		add(bot.T(" "), bot.C(who.Where))
	}
	if who.Surface != bot.SurfaceConsole {
		if r.access.allowedPlace(who) {
			add(bot.T(" — anyone may read here"))
		} else {
			add(bot.T(" — not an open channel: only listed users are answered here"))
		}
	}
	var may []string
	for _, s := range specs {
		if role >= s.Role {
			may = append(may, s.Name)
		}
	}
	if len(may) == 0 {
		add(bot.T("\nYou may run nothing here."))
	} else {
		add(bot.T("\nYou may run: " + strings.Join(may, ", ") + "."))
	}
	return result{msg: m}
}

func (r *Router) silences(ctx context.Context, _ Who, _ Command) result {
	if r.store == nil {
		return failure("Silences are not available", errors.New("the bot has no store"))
	}
	list, err := r.store.Silences(ctx, r.now())
	if err != nil {
		return failure("Could not read the silences", err)
	}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo}
	if len(list) == 0 {
		m.Title = "No active silences or maintenance windows"
		m.Text = bot.Line(bot.T("Silence alerts with "), bot.C("silence 1h [target] [profile] [code]"), bot.T("."))
		return result{msg: m}
	}
	m.Title = plural(len(list), "silence") + " (active or planned)"
	now := r.now()
	for _, s := range list {
		m.Text = append(m.Text, bot.C(s.ID), bot.T(" "+silenceScope(s.Target, s.Subject, s.Code)))
		if s.Starts.After(now) {
			m.Text = append(m.Text, bot.T(" · from "), bot.At(s.Starts))
		}
		m.Text = append(m.Text, bot.T(" · until "), bot.At(s.Ends))
		if s.CreatedBy != "" {
			m.Text = append(m.Text, bot.T(" · by "+s.CreatedBy))
		}
		if s.Comment != "" {
			m.Text = append(m.Text, bot.T(" · "+s.Comment))
		}
		m.Text = append(m.Text, bot.T("\n"))
	}
	m.Footer = bot.Line(bot.C("unsilence <id>"), bot.T(" ends one early."))
	trimText(&m)
	return result{msg: m}
}

func silenceScope(target, subject, code string) string {
	var parts []string
	if target != "" {
		parts = append(parts, "target "+target)
	}
	if subject != "" {
		parts = append(parts, "profile "+subject)
	}
	if code != "" {
		parts = append(parts, "code "+code)
	}
	if len(parts) == 0 {
		return "every alert"
	}
	return strings.Join(parts, " · ")
}

// ---- responder commands without confirmation ----

func (r *Router) silence(ctx context.Context, who Who, cmd Command) result {
	if r.store == nil {
		return failure("Could not silence", errors.New("the bot has no store"))
	}
	now := r.now()
	s := &store.Silence{
		Target: cmd.Target, Subject: cmd.Profile, Code: cmd.Code,
		Starts: now, Ends: now.Add(cmd.Duration), CreatedAt: now,
		CreatedBy: who.display(), Comment: "from " + who.Surface,
	}
	if err := r.store.AddSilence(ctx, s); err != nil {
		return failure("Could not silence", err)
	}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Target: cmd.Target,
		Title: "Silenced " + silenceScope(s.Target, s.Subject, s.Code) + " for " + FormatDuration(cmd.Duration),
		Text: bot.Line(bot.T("Until "), bot.At(s.Ends), bot.T(". Id "), bot.C(s.ID), bot.T(": "),
			bot.C("unsilence "+s.ID), bot.T(" ends it early.")),
	}
	res := result{msg: m}
	res.after = []byte(fmt.Sprintf(`{"silence":%q}`, s.ID))
	return res
}

func (r *Router) unsilence(ctx context.Context, _ Who, cmd Command) result {
	if r.store == nil {
		return failure("Could not unsilence", errors.New("the bot has no store"))
	}
	ok, err := r.store.RemoveSilence(ctx, cmd.ID)
	if err != nil {
		return failure("Could not unsilence", err)
	}
	if !ok {
		res := failure("No silence "+cmd.ID, nil, bot.C("silences"), bot.T(" lists the active ones."))
		res.err = "no such silence"
		return res
	}
	return result{msg: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo,
		Title: "Silence " + cmd.ID + " ended: its alerts notify again"}}
}

func (r *Router) ack(ctx context.Context, who Who, cmd Command) result {
	if r.store == nil {
		return failure("Could not ack", errors.New("the bot has no store"))
	}
	id, _ := strconv.ParseInt(cmd.ID, 10, 64)
	inc, err := r.store.Incident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		res := failure("No incident #"+cmd.ID, nil, bot.T("The id is on the alert message."))
		res.err = "no such incident"
		return res
	}
	if err != nil {
		return failure("Could not ack #"+cmd.ID, err)
	}
	err = r.store.AckIncident(ctx, id, who.display(), r.now())
	if errors.Is(err, store.ErrResolved) {
		res := failure("Incident #"+cmd.ID+" is already resolved", nil)
		res.err = "already resolved"
		return res
	}
	if err != nil {
		return failure("Could not ack #"+cmd.ID, err)
	}
	return result{msg: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Target: inc.Target,
		Title: fmt.Sprintf("Acked #%d by %s: %s", id, who.display(), inc.Title),
		Text:  bot.Line(bot.T("target " + inc.Target + " · " + inc.Code + " · " + inc.Subject))}}
}

func (r *Router) audit(ctx context.Context, _ Who, cmd Command) result {
	if r.store == nil {
		return failure("The audit log is not available", errors.New("the bot has no store"))
	}
	n := cmd.N
	if n == 0 {
		n = 10
	}
	list, err := r.store.Audit(ctx, n)
	if err != nil {
		return failure("Could not read the audit log", err)
	}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo, Title: "Audit: the latest " + plural(len(list), "command")}
	for _, e := range list {
		who := e.Actor
		if e.ActorName != "" && e.ActorName != e.Actor {
			who = e.ActorName + " (" + e.Actor + ")"
		}
		where := e.Surface
		if e.Where != "" {
			where += " " + e.Where
		}
		line := strings.TrimSpace(e.Command + " " + strings.Join(e.Args, " "))
		m.Text = append(m.Text, bot.B(fmt.Sprintf("#%d", e.ID)), bot.T(" "), bot.At(e.At),
			bot.T(" "+who+" · "+where+" · "), bot.C(line), bot.T(" → "+e.Outcome))
		if e.Error != "" {
			m.Text = append(m.Text, bot.T(" ("+text.Truncate(e.Error, 120)+")"))
		}
		took := e.Duration.Round(time.Millisecond).String()
		if e.Duration < time.Millisecond {
			took = "<1ms"
		}
		m.Text = append(m.Text, bot.T(" · "+took+"\n"))
	}
	trimText(&m)
	return result{msg: m}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func (r *Router) doctorLint(ctx context.Context, _ Who, cmd Command) result {
	target, res, ok := r.oneTarget(cmd)
	if !ok {
		return res
	}
	if ex, ok := r.actions.(Explainer); ok {
		if msg, unavailable := ex.Explain(cmd.Name, target, nil); unavailable {
			return result{msg: msg, outcome: OutcomeFailed, err: "not available in this release"}
		}
	}
	msg, err := call(ctx, r.actions, cmd.Name, target, nil)
	if err != nil {
		res := failure("doctor on "+targetName(target)+" failed", err)
		res.ephemeral = false
		return res
	}
	if msg.Target == "" {
		msg.Target = target
	}
	return result{msg: msg}
}

// oneTarget is the target of a command that acts on one install: the one
// given, the only one configured, or a refusal asking which.
func (r *Router) oneTarget(cmd Command) (string, result, bool) {
	if cmd.Target != "" {
		return cmd.Target, result{}, true
	}
	ts := r.targets()
	switch len(ts) {
	case 0:
		return "", result{}, true
	case 1:
		return ts[0], result{}, true
	}
	spec, _ := SpecOf(cmd.Name)
	ex := cmd
	ex.Target = ts[0]
	return "", refusal(fmt.Sprintf("Which target? %s acts on one install", cmd.Name),
		bot.T("Targets: "+strings.Join(ts, ", ")+". For example: "), bot.C(ex.String()),
		bot.T(" (usage: "), bot.C(spec.Usage), bot.T(").")), false
}

func targetName(t string) string {
	if t == "" {
		return "the install"
	}
	return t
}

// ---- alert buttons ----

// alertCommand turns an alert button into the command it stands for. Its
// Arg may have been cut to fit a button (bot.Action.Format): targets are
// matched back here, profiles when the reset is previewed.
func (r *Router) alertCommand(a bot.Action) (Command, error) {
	switch a.Verb {
	case bot.VerbReset:
		// The alert's target, when the button names it (an older one
		// does not: the profile is looked for on every target).
		t, err := r.buttonTarget(a.For)
		return Command{Name: CmdCooldownReset, Profile: a.Arg, Target: t}, err
	case bot.VerbCheck:
		t, err := r.buttonTarget(a.Arg)
		return Command{Name: CmdCheck, Target: t}, err
	case bot.VerbSilence:
		d, err := ParseDuration(a.For)
		if err != nil {
			return Command{}, fmt.Errorf("%v.", err)
		}
		t, err := r.buttonTarget(a.Arg)
		return Command{Name: CmdSilence, Target: t, Duration: d}, err
	}
	return Command{}, errors.New("unknown button.")
}

func (r *Router) buttonTarget(arg string) (string, error) {
	if arg == "" {
		return "", nil
	}
	for _, t := range r.targets() {
		if bot.ArgMatches(arg, t) {
			return t, nil
		}
	}
	return "", fmt.Errorf("the target of this alert is not configured any more.")
}

// ---- helpers for previews ----

// matchesProfile: a profile id as typed or as an alert button cut it.
func matchesProfile(arg string, p diagnostics.ProfileStatus) bool {
	return bot.ArgMatches(arg, p.ID)
}
