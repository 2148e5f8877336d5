package diagnostics

import "fmt"

// ruleKeyRejected reports keys our zero-token check saw refused with an
// authentication_error.
var ruleKeyRejected = Rule{Name: CodeKeyRejected, Check: func(in *Input) []Finding {
	return checkFindings(in, StatusRejected, CodeKeyRejected,
		"Anthropic rejects the %s of %s (401): requests will fail and OpenClaw will put it in an auth cooldown")
}}

// ruleKeyForbidden reports keys that authenticate but may not use the API.
var ruleKeyForbidden = Rule{Name: CodeKeyForbidden, Check: func(in *Input) []Finding {
	return checkFindings(in, StatusForbidden, CodeKeyForbidden,
		"Anthropic refuses the %s of %s (403 permission_error): the key works but may not call models")
}}

func checkFindings(in *Input, status Status, code, title string) []Finding {
	var out []Finding
	for _, k := range in.anthropicKeys() {
		c, ok := in.check(k)
		if !ok || c.Status != status {
			continue
		}
		ev := fmt.Sprintf("Zero-token check GET %s/v1/models at %s: HTTP %d %s: %s. Credential %s from %s.",
			c.BaseURL, c.CheckedAt.UTC().Format("2006-01-02T15:04:05Z"), c.HTTPStatus, c.ErrorType, c.Message, k.Cred.Secret.Masked(), where(k))
		if k.Shadowed {
			ev += " This env key is not used while a stored profile exists, but it will fail the day it is."
		}
		out = append(out, Finding{
			Code: code, Severity: Critical, Subject: subject(k),
			Title:    fmt.Sprintf(title, kind(k.Cred.Type), k.ID),
			Evidence: ev,
			Remedy:   append(in.replaceRemedy(k), verifyRemedy()),
		})
	}
	return out
}
