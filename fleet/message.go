package fleet

import (
	"fmt"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// silentFinding is instance.silent about instance and its targets.
func silentFinding(instance string, since time.Time, targets []string) diagnostics.Finding {
	return diagnostics.Finding{
		Code: diagnostics.CodeInstanceSilent, Severity: diagnostics.Critical, Subject: instance,
		Title: "Bot instance " + instance + " is silent: " + targetList(targets) + " not watched",
		Evidence: fmt.Sprintf("instance %s missed %d heartbeats; silent since %s. Its targets are not watched: what the fleet shows of them is its last report, and actions on them are refused.",
			instance, MissedBeats, since.UTC().Format(time.RFC3339)),
		Remedy: []string{
			"Check the openclaw-bot service on " + instance + "'s host (`systemctl status openclaw-bot`, `journalctl -u openclaw-bot`, or `docker compose ps`) and its connection to PostgreSQL.",
			"An instance gone for good: `openclaw-bot fleet forget " + instance + "` frees its targets for another instance's config.",
		},
	}
}

// silentMessage is the instance.silent alert.
func silentMessage(in store.Instance, now time.Time, every time.Duration, ref string) bot.Message {
	f := silentFinding(in.Name, now, in.Targets)
	f.Evidence = fmt.Sprintf("Last heartbeat %s from host %s (pid %d), %d beats of %s missed. Its targets (%s) are not watched; status answers from its last report and actions are refused until it returns.",
		in.Heartbeat.UTC().Format(time.RFC3339), in.Host, in.PID, MissedBeats, every, targetList(in.Targets))
	it := bot.Item{Code: f.Code, Severity: bot.SevCritical, Subject: in.Name, Title: f.Title, Details: bot.Inline(f.Evidence)}
	for _, r := range f.Remedy {
		it.Remedy = append(it.Remedy, bot.Remedy(r))
	}
	return bot.Message{Kind: bot.KindAlert, Severity: bot.SevCritical, Ref: ref,
		Title:  "openclaw-bot: instance " + in.Name + " is silent (" + targetList(in.Targets) + " not watched)",
		Items:  []bot.Item{it},
		Footer: []bot.Span{bot.T("instance " + in.Name + " · last heartbeat "), bot.At(in.Heartbeat)}}
}

// resolvedMessage edits the alert once the instance beats again, or was
// stopped or forgotten (fleet forget) while silent.
func resolvedMessage(in store.Instance, now time.Time) bot.Message {
	title, item := "Resolved: openclaw-bot: instance "+in.Name+" is beating again",
		"Bot instance "+in.Name+" was silent; "+targetList(in.Targets)+" watched again"
	if !in.Stopped.IsZero() {
		title, item = "Resolved: openclaw-bot: instance "+in.Name+" was stopped or forgotten",
			"Bot instance "+in.Name+" was silent, then stopped or removed from the fleet (fleet forget); its targets are free for another instance"
	}
	return bot.Message{Kind: bot.KindResolved, Severity: bot.SevResolved, Ref: in.SilentRef,
		Title: title,
		Items: []bot.Item{{Code: diagnostics.CodeInstanceSilent, Severity: bot.SevCritical, Subject: in.Name, Resolved: true,
			Title: item}},
		Footer: []bot.Span{bot.T(fmt.Sprintf("instance %s · resolved after %s", in.Name, now.Sub(in.SilentSince).Round(time.Second)))}}
}
