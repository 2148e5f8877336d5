// Package router is openclaw-bot's one command grammar for every chat
// surface (Slack, Telegram, the console): it parses a command, checks the
// caller's role on immutable ids, rate-limits, refuses pasted credentials,
// answers read-only commands from diagnostics reports, turns every mutating
// command into a preview with Confirm/Cancel buttons bound to the requester
// (2 minutes, single use), and writes an audit row for everything.
//
// It implements bot.Handler; surfaces strip their own syntax and call it.
package router

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	txt "github.com/openclaw-bot/openclaw-bot/internal/text"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// Audit outcomes.
const (
	OutcomeOK        = "ok"
	OutcomeRefused   = "refused"
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
	OutcomePreviewed = "previewed"
)

// Button texts of a preview (CONTRACT.md: exactly Confirm and Cancel);
// their payloads are bot.Action{Verb: bot.VerbConfirm / bot.VerbCancel}.
const (
	ConfirmText = "Confirm"
	CancelText  = "Cancel"
)

// Options configure a Router.
type Options struct {
	// Store keeps audit rows, pending confirmations, silences and
	// incidents. Without it nothing is audited and mutating commands fail.
	Store *store.Store
	// Diagnoser answers the read-only commands.
	Diagnoser Diagnoser
	// Actions performs confirmed commands; nil means Unavailable.
	Actions Actions
	// Access lists who may do what (config access:).
	Access config.Access
	// AlertChannel (slack.alert_channel) and AlertChat
	// (telegram.alert_chat) are where anyone may read when
	// access.slack_channels / access.telegram_chats are empty.
	AlertChannel, AlertChat string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// RateLimit per user; the zero value is 10 a minute, burst 5.
	RateLimit RateLimit
	// Log gets one line per command: surface, user id, command name,
	// outcome, duration, audit id. Never the text or a secret. nil: no logs.
	Log *zerolog.Logger
	// Scrubber removes known secret values from everything replied,
	// audited or logged (credential-shaped strings are always removed).
	Scrubber *redact.Scrubber
	// Observer counts commands (the metrics); nil: nobody.
	Observer Observer
	// Fleet routes the commands of targets other instances own to them
	// (Spec.Owner); nil: one instance.
	Fleet Fleet
}

// Observer is told about every answered command and button press. command
// is a grammar name or one of the parenthesised pseudo-commands
// ("(unknown)", "(usage)", "(button)", …), so its values are bounded;
// confirmed marks the outcome of a confirmed action.
type Observer interface {
	Command(command, surface, outcome string, took time.Duration, confirmed bool)
}

// Router implements bot.Handler. It is safe for concurrent use.
type Router struct {
	store   *store.Store
	diag    Diagnoser
	actions Actions
	access  access
	now     func() time.Time
	limiter *limiter
	log     zerolog.Logger
	scrub   *redact.Scrubber
	obs     Observer
	fleet   Fleet
}

var _ bot.Handler = (*Router)(nil)

// New returns a Router.
func New(opts Options) *Router {
	r := &Router{
		store:   opts.Store,
		diag:    opts.Diagnoser,
		actions: opts.Actions,
		access:  access{cfg: opts.Access, alertChannel: opts.AlertChannel, alertChat: opts.AlertChat},
		now:     opts.Now,
		limiter: newLimiter(opts.RateLimit),
		log:     zerolog.Nop(),
		scrub:   opts.Scrubber,
		obs:     opts.Observer,
		fleet:   opts.Fleet,
	}
	if r.actions == nil {
		r.actions = Unavailable{}
	}
	if r.now == nil {
		r.now = time.Now
	}
	if opts.Log != nil {
		r.log = *opts.Log
	}
	return r
}

// result is what a command produced, before auditing.
type result struct {
	msg       bot.Message
	ephemeral bool
	toast     string
	outcome   string
	err       string
	// command and args go to the audit row (defaults: the parsed command).
	command string
	args    []string
	before  []byte
	after   []byte
	backup  string
	// confirmed: the result of a confirmed action; the footer names who
	// confirmed it (by, when set: who did it instead) and the audit id.
	confirmed bool
	by        string
}

// Handle answers a typed command.
func (r *Router) Handle(ctx context.Context, req bot.Request) (rep bot.Reply) {
	who := Who{Surface: req.Surface, UserID: req.UserID, Name: req.UserName, Where: req.Where, Private: req.Private}
	start := time.Now()
	ctx = r.tag(ctx)
	defer r.recoverTo(ctx, who, start, &rep)

	// A pasted credential is refused before anything else looks at the
	// text, and the text goes nowhere: not the audit, not the log.
	if kind := credentialKind(req.Text); kind != "" {
		res := result{msg: secretWarning(kind), ephemeral: true, outcome: OutcomeRefused, toast: "Credential refused",
			command: "(credential pasted)", err: "credential-shaped text refused; the text was not recorded"}
		res.args = []string{}
		return r.finish(ctx, who, start, Command{}, res)
	}
	cmd, perr := Parse(req.Text, r.targets())
	if pe, ok := perr.(*ParseError); ok && pe.Target && r.fleet != nil {
		// Another instance may have claimed it since this one last read
		// who owns what: read again, once.
		r.fleet.Refresh(ctx)
		cmd, perr = Parse(req.Text, r.targets())
	}
	if !r.allowed(ctx, who) {
		return r.finish(ctx, who, start, cmd, r.slowDown())
	}
	if perr != nil {
		return r.finish(ctx, who, start, Command{}, parseRefusal(perr, req.Text))
	}
	if rep, ok := r.forward(ctx, who, start, cmd, &req, nil); ok {
		return rep
	}
	return r.finish(ctx, who, start, cmd, r.run(ctx, who, cmd))
}

// allowed applies the per-user rate limit. The console is the local
// operator at the host's terminal (or a script feeding it): not limited.
// A command another fleet instance forwarded was counted there.
func (r *Router) allowed(ctx context.Context, who Who) bool {
	return who.Surface == bot.SurfaceConsole || bot.ForwardedFrom(ctx) != "" || r.limiter.allow(who.key(), r.now())
}

// Press answers a button (a bot.Action): Confirm/Cancel of a preview, or
// an alert's reset, check and silence buttons, which answer exactly like
// the typed command, after the same checks.
func (r *Router) Press(ctx context.Context, p bot.Press) (rep bot.Reply) {
	who := Who{Surface: p.Surface, UserID: p.UserID, Name: p.UserName, Where: p.Where, Private: p.Private}
	start := time.Now()
	ctx = r.tag(ctx)
	defer r.recoverTo(ctx, who, start, &rep)

	if !r.allowed(ctx, who) {
		return r.finish(ctx, who, start, Command{}, r.slowDown())
	}
	a, err := bot.ParseAction(p.Action)
	if err == nil && (a.Verb == bot.VerbConfirm || a.Verb == bot.VerbCancel) {
		if rep, ok := r.forwardPress(ctx, who, start, a.Arg, p); ok {
			return rep
		}
	}
	switch {
	case err == nil && a.Verb == bot.VerbConfirm:
		return r.finish(ctx, who, start, Command{}, r.confirm(ctx, who, a.Arg))
	case err == nil && a.Verb == bot.VerbCancel:
		return r.finish(ctx, who, start, Command{}, r.cancel(ctx, who, a.Arg))
	}
	var cmd Command
	if err == nil {
		cmd, err = r.alertCommand(a)
	}
	if err != nil {
		res := refusal("This button is not valid (any more)", bot.T(err.Error()+" Type the command instead; "), bot.C("help"), bot.T(" lists them."))
		res.command, res.args, res.toast = "(button)", []string{}, "Not valid"
		return r.finish(ctx, who, start, Command{}, res)
	}
	if rep, ok := r.forward(ctx, who, start, cmd, nil, &p); ok {
		return rep
	}
	return r.finish(ctx, who, start, cmd, r.run(ctx, who, cmd))
}

// tag gives ctx a request id (keeping one a surface set) and a logger
// that carries it, for the actions' own log lines (zerolog.Ctx).
func (r *Router) tag(ctx context.Context) context.Context {
	id := bot.RequestID(ctx)
	if id == "" {
		id = bot.NewRequestID()
		ctx = bot.WithRequestID(ctx, id)
	}
	return r.log.With().Str("req", id).Logger().WithContext(ctx)
}

// targets are the Diagnoser's target names (none without a Diagnoser).
func (r *Router) targets() []string {
	if r.diag == nil {
		return nil
	}
	return r.diag.Targets()
}

// finish scrubs the reply, writes the audit row and the log line.
func (r *Router) finish(ctx context.Context, who Who, start time.Time, cmd Command, res result) bot.Reply {
	if res.outcome == "" {
		res.outcome = OutcomeOK
	}
	if res.command == "" {
		res.command = cmd.Name
	}
	if res.args == nil {
		res.args = cmd.Args()
	}
	res.err = r.clean(res.err)
	entry := &store.AuditEntry{
		At: r.now(), Actor: who.UserID, ActorName: who.Name, Surface: who.Surface, Where: who.Where,
		Command: r.clean(res.command), Args: r.cleanAll(res.args), Before: res.before, After: res.after,
		Outcome: res.outcome, Error: res.err, Duration: time.Since(start), BackupPath: res.backup,
	}
	var auditErr error
	if r.store != nil {
		auditErr = r.store.AddAudit(context.WithoutCancel(ctx), entry)
	}
	if res.confirmed {
		by := "Confirmed by " + who.display()
		if res.by != "" {
			by = res.by
		}
		foot := []bot.Span{bot.T(by)}
		if entry.ID > 0 {
			foot = append(foot, bot.T(fmt.Sprintf(" · audit #%d", entry.ID)))
			if res.backup != "" && res.outcome == OutcomeOK {
				foot = append(foot, bot.T(" · undo with "), bot.C(fmt.Sprintf("undo %d", entry.ID)))
			}
		}
		if len(res.msg.Footer) > 0 {
			foot = append(append(foot, bot.T(" · ")), res.msg.Footer...)
		}
		res.msg.Footer = foot
	}
	if res.msg.Kind == "" {
		res.msg.Kind = bot.KindReply
	}
	if res.msg.Severity == "" {
		res.msg.Severity = bot.SevInfo
	}
	msg := r.scrubMessage(res.msg)

	ev := r.log.Info()
	if res.outcome == OutcomeFailed {
		ev = r.log.Warn()
	}
	ev = ev.Str("req", bot.RequestID(ctx)).Str("surface", who.Surface).Str("user", who.UserID).Str("command", entry.Command).
		Str("outcome", res.outcome).Dur("took", entry.Duration).Int64("audit", entry.ID)
	if res.err != "" {
		ev = ev.Str("error", res.err)
	}
	ev.Msg("chat command")
	if r.obs != nil {
		r.obs.Command(metricName(entry.Command), who.Surface, res.outcome, entry.Duration, res.confirmed)
	}
	if auditErr != nil {
		r.log.Error().Str("error", r.clean(auditErr.Error())).Str("command", entry.Command).Msg("audit row not written")
	}
	return bot.Reply{Message: msg, Ephemeral: res.ephemeral, Toast: res.toast}
}

// metricName bounds the command label: a grammar name or a pseudo-command.
func metricName(command string) string {
	if _, ok := SpecOf(command); ok || strings.HasPrefix(command, "(") {
		return command
	}
	return "(other)"
}

// recoverTo turns a panic into a failed reply and audit row: a handler
// never panics on input.
func (r *Router) recoverTo(ctx context.Context, who Who, start time.Time, rep *bot.Reply) {
	v := recover()
	if v == nil {
		return
	}
	r.log.Error().Str("panic", r.clean(fmt.Sprint(v))).Str("stack", r.clean(string(debug.Stack()))).Msg("chat command panicked")
	res := result{
		msg: bot.Message{Kind: bot.KindReply, Severity: bot.SevCritical,
			Title: "Internal error in openclaw-bot (logged)",
			Text: bot.Line(bot.T("The command did not complete. Look at "), bot.C("audit"),
				bot.T(" before retrying a change.")),
		},
		ephemeral: true, outcome: OutcomeFailed, err: "internal error", command: "(panic)", args: []string{}, toast: "Internal error",
	}
	func() {
		defer func() { _ = recover() }()
		*rep = r.finish(ctx, who, start, Command{}, res)
	}()
	if rep.Message.Title == "" {
		*rep = bot.Reply{Message: res.msg, Ephemeral: true, Toast: res.toast}
	}
}

// clean scrubs a text for a reply, the audit or the log.
func (r *Router) clean(s string) string {
	if r.scrub != nil {
		return r.scrub.String(s)
	}
	return redact.String(s)
}

func (r *Router) cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.clean(s)
	}
	return out
}

func (r *Router) cleanSpans(ss []bot.Span) []bot.Span {
	if ss == nil {
		return nil
	}
	out := make([]bot.Span, len(ss))
	for i, s := range ss {
		s.Text = r.clean(s.Text)
		out[i] = s
	}
	return out
}

// scrubMessage is the last line of defence: every text of the reply goes
// through the scrubber.
func (r *Router) scrubMessage(m bot.Message) bot.Message {
	m.Title, m.Target, m.Ref = r.clean(m.Title), r.clean(m.Target), r.clean(m.Ref)
	if m.Items != nil {
		items := make([]bot.Item, len(m.Items))
		for i, it := range m.Items {
			it.Code, it.Subject, it.Title = r.clean(it.Code), r.clean(it.Subject), r.clean(it.Title)
			it.Details = r.cleanSpans(it.Details)
			if it.Remedy != nil {
				rem := make([][]bot.Span, len(it.Remedy))
				for j, line := range it.Remedy {
					rem[j] = r.cleanSpans(line)
				}
				it.Remedy = rem
			}
			items[i] = it
		}
		m.Items = items
	}
	m.Text, m.Footer = r.cleanSpans(m.Text), r.cleanSpans(m.Footer)
	if m.Buttons != nil {
		bs := make([]bot.Button, len(m.Buttons))
		for i, b := range m.Buttons {
			b.Text = r.clean(b.Text)
			bs[i] = b
		}
		m.Buttons = bs
	}
	return m
}

// ---- small results ----

// refusal is an ephemeral refused answer.
func refusal(title string, text ...bot.Span) result {
	return result{
		msg:       bot.Message{Kind: bot.KindReply, Severity: bot.SevWarning, Title: title, Text: text},
		ephemeral: true, outcome: OutcomeRefused, err: title, toast: "Refused",
	}
}

// failure is a failed answer (the command could not be done).
func failure(title string, err error, text ...bot.Span) result {
	e := title
	if err != nil {
		e = title + ": " + err.Error()
		text = append([]bot.Span{bot.T(err.Error() + "\n")}, text...)
	}
	m := bot.Message{Kind: bot.KindReply, Severity: bot.SevCritical, Title: title, Text: text}
	trimText(&m)
	return result{msg: m, ephemeral: true, outcome: OutcomeFailed, err: e, toast: "Failed"}
}

func (r *Router) slowDown() result {
	res := refusal("Please slow down: too many commands",
		bot.T(fmt.Sprintf("slow down — at most %g commands a minute (%d at once); wait a few seconds and try again.",
			r.limiter.rate*60, int(r.limiter.burst))))
	res.err, res.toast = "rate limited: slow down", "Slow down"
	return res
}

// parseRefusal answers input that is not a command: the closest command
// and its exact usage.
func parseRefusal(perr error, text string) result {
	pe, ok := perr.(*ParseError)
	if !ok {
		pe = &ParseError{Msg: perr.Error()}
	}
	var title string
	var spans []bot.Span
	switch {
	case pe.Unknown && pe.Suggest != "":
		title = upperFirst(pe.Msg) + " — did you mean " + pe.Suggest + "?"
		spans = append(spans, bot.T("Usage: "), bot.C(pe.Usage))
		if s, ok := SpecOf(pe.Suggest); ok {
			spans = append(spans, bot.T(" — "+s.Summary+"."))
		}
		spans = append(spans, bot.T("\n"))
	default:
		title = upperFirst(pe.Msg)
		if pe.Suggest != "" {
			title += " — did you mean " + pe.Suggest + "?"
		}
		if pe.Usage != "" {
			spans = append(spans, bot.T("Usage: "), bot.C(pe.Usage), bot.T("\n"))
		}
	}
	spans = append(spans, bot.C("help"), bot.T(" lists every command; "), bot.C("help <command>"), bot.T(" explains one."))
	res := refusal(title, spans...)
	res.command = "(unknown)"
	if !pe.Unknown {
		res.command = "(usage)"
	}
	// What was typed, scrubbed and cut, so the audit shows what was refused.
	res.args = []string{txt.Truncate(strings.Join(strings.Fields(text), " "), 80)}
	res.err = "parse: " + pe.Error()
	res.toast = "Unknown command"
	if !pe.Unknown {
		res.toast = "Usage"
	}
	return res
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
