package diagnostics

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
		}
		out = append(out, f)
	}
	return out
}
