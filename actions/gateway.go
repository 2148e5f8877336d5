package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"slices"
	"strings"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
)

// Restart restarts the target's gateway with its configured method and
// waits until it is ready.
func (a *Actions) Restart(ctx context.Context, target string, _ []string) (bot.Message, error) {
	t, done, err := a.begin(target)
	if err != nil {
		return bot.Message{}, err
	}
	defer done()
	if t.Restarter == nil {
		return bot.Message{}, fmt.Errorf("no restart method configured for %s (targets[].restart)", t.Name)
	}
	rs := *t.Restarter
	if loc, err := openclaw.Locate(t.Locate); err == nil {
		if c, err := openclaw.ReadConfig(loc.ConfigPath); err == nil && c != nil {
			rs.Version = c.Version // method signal: the fallback when the gateway's package is unreadable
		}
	}
	res, err := rs.Restart(ctx)
	if err != nil {
		return bot.Message{}, fmt.Errorf("restart (%s) failed: %w", rs.Method, err)
	}
	a.changed(ctx, t.Name)
	line := fmt.Sprintf("Restarted with %s", res.Method)
	if res.Ready {
		line += fmt.Sprintf("; ready after %s.", res.Took.Round(100*1e6))
	} else {
		line += "; " + res.Detail + "."
	}
	return reply(bot.SevInfo, t.Name, "Gateway restarted on "+t.Name, []bot.Span{bot.T(line)},
		[]bot.Span{bot.T("A restart does not clear a cooldown: OpenClaw persists it (use cooldown reset).")}), nil
}

// lintFinding is one finding of `openclaw doctor --lint --json`.
type lintFinding struct {
	CheckID  string `json:"checkId"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Target   string `json:"target"`
	FixHint  string `json:"fixHint"`
}

// DoctorLint runs OpenClaw's read-only auth lint and shows its findings.
func (a *Actions) DoctorLint(ctx context.Context, target string, _ []string) (bot.Message, error) {
	t, done, err := a.beginCLI(target)
	if err != nil {
		return bot.Message{}, err
	}
	defer done()
	res, err := t.CLI.DoctorLint(ctx)
	if err != nil && (res == nil || len(res.Stdout) == 0) {
		return bot.Message{}, fmt.Errorf("openclaw doctor --lint: %w", err)
	}
	var out struct {
		OK       bool          `json:"ok"`
		Findings []lintFinding `json:"findings"`
	}
	if err := json.Unmarshal(res.Stdout, &out); err != nil {
		return bot.Message{}, fmt.Errorf("openclaw doctor --lint printed no JSON: %w", err)
	}
	m := reply(bot.SevInfo, t.Name, "openclaw doctor (auth lint) on "+t.Name+": no findings")
	if len(out.Findings) > 0 {
		m.Title = fmt.Sprintf("openclaw doctor (auth lint) on %s: %d findings", t.Name, len(out.Findings))
		m.Severity = bot.SevWarning
	}
	for _, f := range out.Findings {
		it := bot.Item{Code: f.CheckID, Severity: bot.SeverityOf(f.Severity), Subject: f.Target, Title: redact.String(f.Message)}
		if f.FixHint != "" {
			it.Remedy = [][]bot.Span{bot.Remedy(redact.String(f.FixHint))}
		}
		m.Items = append(m.Items, it)
	}
	return m, nil
}

// DoctorFix runs `openclaw doctor --fix --non-interactive --yes`. A failed
// OAuth refresh destroys a login for good (OPENCLAW.md §6.4), and --fix
// refreshes expired or expiring OAuth/token profiles: those must be named
// in args by the admin, else it refuses.
func (a *Actions) DoctorFix(ctx context.Context, target string, args []string) (bot.Message, error) {
	t, done, err := a.beginCLI(target)
	if err != nil {
		return bot.Message{}, err
	}
	defer done()
	snap, err := a.snapshot(ctx, t)
	if err != nil {
		return bot.Message{}, err
	}
	var atRisk []string
	for _, c := range snap.Profiles(snap.DefaultAgent()) {
		if (c.Type == openclaw.TypeOAuth || c.Type == openclaw.TypeToken) && c.Fence == "" && !slices.Contains(args, c.ID) && !slices.Contains(args, "all") {
			atRisk = append(atRisk, c.ID)
		}
	}
	if len(atRisk) > 0 {
		return bot.Message{}, fmt.Errorf("doctor --fix may refresh the OAuth/token logins %s, and a failed refresh destroys a login for good; name them to go ahead: doctor fix %s (or all)",
			strings.Join(atRisk, ", "), atRisk[0])
	}
	if a.opts.BackupDir == "" {
		return bot.Message{}, fmt.Errorf("no backup directory configured: refusing to run doctor --fix without a backup")
	}
	backupDir := fmt.Sprintf("%s/doctor-%s-%d", a.opts.BackupDir, safeName(t.Name), a.opts.Now().UnixNano())
	files, err := change.BackupState(ctx, snap.Location, backupDir)
	if err != nil {
		return bot.Message{}, fmt.Errorf("backup before doctor --fix failed, nothing was run: %w", err)
	}
	router.NoteBackup(ctx, backupDir)
	res, err := t.CLI.DoctorFix(ctx)
	if err != nil {
		tail := ""
		if res != nil {
			tail = lastLines(redact.String(string(res.Stdout)+string(res.Stderr)), 8)
		}
		return bot.Message{}, fmt.Errorf("openclaw doctor --fix failed: %w\n%s", err, tail)
	}
	a.changed(ctx, t.Name)
	after := "Re-diagnosis: could not re-read the install."
	if s2, err := a.snapshot(ctx, t); err == nil {
		rep := diagnostics.Diagnose(t.Name, &diagnostics.Input{Snap: s2, Now: a.opts.Now()})
		after = fmt.Sprintf("Re-diagnosis: %s, %d findings.", rep.Verdict, len(rep.Findings))
	}
	return reply(bot.SevInfo, t.Name, "openclaw doctor --fix ran on "+t.Name,
		[]bot.Span{bot.T(fmt.Sprintf("Backed up %d files to %s first.", len(files), backupDir))},
		[]bot.Span{bot.T(lastLines(redact.String(string(res.Stdout)), 12))},
		[]bot.Span{bot.T(after + " Run "), bot.C("diagnose " + t.Name), bot.T(" for the details.")}), nil
}

// ProbeSpend runs OpenClaw's own probe through the gateway: a real request
// per profile that SPENDS TOKENS and can write a cooldown.
func (a *Actions) ProbeSpend(ctx context.Context, target string, profiles []string) (bot.Message, error) {
	t, done, err := a.beginCLI(target)
	if err != nil {
		return bot.Message{}, err
	}
	defer done()
	params := map[string]any{"provider": "anthropic", "timeoutMs": 15000}
	if len(profiles) == 1 {
		params["profileId"] = profiles[0]
	}
	res, err := t.CLI.GatewayProbe(ctx, params)
	if err != nil {
		return bot.Message{}, fmt.Errorf("models.probe through the gateway: %w", err)
	}
	var out struct {
		Status  string `json:"status"`
		Results []struct {
			ProfileID string `json:"profileId"`
			Status    string `json:"status"`
			Error     string `json:"error"`
			LatencyMs int    `json:"latencyMs"`
		} `json:"results"`
	}
	if err := json.Unmarshal(res.Stdout, &out); err != nil {
		return bot.Message{}, fmt.Errorf("models.probe printed no JSON: %w", err)
	}
	m := reply(bot.SevInfo, t.Name, "OpenClaw probe (spent tokens) on "+t.Name+": "+out.Status)
	for _, r := range out.Results {
		m.Items = append(m.Items, bot.Item{Code: "probe." + r.Status, Severity: probeSev(r.Status), Subject: r.ProfileID,
			Title: fmt.Sprintf("%s: %s in %d ms %s", r.ProfileID, r.Status, r.LatencyMs, redact.String(r.Error))})
	}
	return m, nil
}

func probeSev(s string) bot.Severity {
	if s == "ok" {
		return bot.SevInfo
	}
	return bot.SevCritical
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// beginCLI is begin for actions that run the openclaw CLI.
func (a *Actions) beginCLI(target string) (Target, func(), error) {
	t, done, err := a.begin(target)
	if err != nil {
		return t, nil, err
	}
	if t.CLI == nil {
		done()
		return t, nil, fmt.Errorf("no openclaw CLI configured for %s (targets[].openclaw_bin)", t.Name)
	}
	return t, done, nil
}
