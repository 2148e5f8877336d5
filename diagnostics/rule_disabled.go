package diagnostics

import "fmt"

// ruleBilling reports profiles disabled for billing. Billing is only ever
// known from disabledReason: the zero-token check cannot see it.
var ruleBilling = Rule{Name: CodeBillingBlocked, Check: func(in *Input) []Finding {
	return disabledFindings(in, func(reason string) bool { return reason == "billing" }, CodeBillingBlocked)
}}

// ruleDisabled reports profiles disabled for any other reason
// (auth_permanent: a revoked key or a dead OAuth grant).
var ruleDisabled = Rule{Name: CodeDisabledActive, Check: func(in *Input) []Finding {
	return disabledFindings(in, func(reason string) bool { return reason != "billing" }, CodeDisabledActive)
}}

func disabledFindings(in *Input, match func(string) bool, code string) []Finding {
	var out []Finding
	for _, k := range in.windowKeys() {
		u := in.usage(k)
		if !in.Now.Before(u.DisabledUntil) || !match(u.DisabledReason) {
			continue
		}
		w := windowOf(u.DisabledUntil, u.DisabledReason)
		f := in.windowFinding(k, w, code)
		if code == CodeBillingBlocked {
			f.Title = k.ID + " is disabled for billing (credit balance too low) until " + when(w.Until, in.Now)
			if subscription(k) {
				f.Title = fmt.Sprintf("%s (a Claude subscription login) is disabled for billing until %s: most likely its extra usage is off or used up", k.ID, when(w.Until, in.Now))
				f.Evidence += " " + subscriptionBillingEvidence
			}
		}
		out = append(out, f)
	}
	return out
}

// subscriptionBillingEvidence: what the releases record for a
// subscription's "extra usage" errors (message-patterns ERROR_PATTERNS.billing
// in 2026.4+: /out of extra usage/, /draw from your extra usage/,
// /extra usage is required( for long context requests)?/).
const subscriptionBillingEvidence = "This is a setup token or OAuth login of a Claude subscription, which has no credit balance. " +
	"OpenClaw 2026.4+ classify Anthropic's \"out of extra usage\", \"draw from your extra usage\" and \"extra usage is required (for long context requests)\" errors as billing " +
	"and record them exactly like a low credit balance (disabledReason billing): the state cannot tell them apart, the error text is only in the gateway log (/tmp/openclaw/openclaw-YYYY-MM-DD.log). " +
	"OpenClaw's own hint \"Top up credits\" does not apply to this login."

// subscriptionBillingRemedy: what ends a billing disable of a subscription
// login, and what does not.
func subscriptionBillingRemedy(in *Input, k keyRef) []string {
	return []string{
		"A credit top-up does not help a subscription login, and a reset alone does not either: the next request gets the same error and disables it again.",
		"Enable extra usage (or raise its limit) for the Claude account in its usage settings on claude.ai, or wait until the subscription's usage limit resets; then end the window early with the bot's chat command `cooldown reset " + k.ID + "` (or let it run out).",
		"Or serve these models from an API key, billed per token: " + in.cmd.pasteKey(k.Agent, "anthropic:api"),
		"For \"extra usage is required for long context requests\": use the model's 200K context window instead of 1M, or enable extra usage.",
	}
}
