package diagnostics

import (
	"fmt"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"strings"
	"unicode"
)

// ruleKeyMalformed catches keys that cannot work, which `openclaw models
// status` reports exactly like good ones (it never checks a key).
var ruleKeyMalformed = Rule{Name: CodeKeyMalformed, Check: func(in *Input) []Finding {
	var out []Finding
	for _, k := range in.anthropicKeys() {
		if k.Shadowed || k.Cred.Secret.IsZero() || k.Cred.Type == "oauth" {
			continue
		}
		raw := k.Cred.Secret.Reveal()
		problem := malformed(k.Cred.Type, openclaw.NormalizeSecret(raw))
		if problem == "" {
			continue
		}
		note := ""
		if openclaw.NormalizeSecret(raw) != raw {
			note = " (OpenClaw strips line breaks, control and non-Latin-1 characters and surrounding spaces before use; the problem remains after that)"
		}
		out = append(out, Finding{
			Code: CodeKeyMalformed, Severity: Critical, Subject: subject(k),
			Title:    fmt.Sprintf("The %s of %s cannot be valid: %s%s", kind(k.Cred.Type), k.ID, problem, note),
			Evidence: fmt.Sprintf("%s from %s is %s (%d characters). Anthropic will answer 401 and OpenClaw will put the profile in an auth cooldown; `openclaw models status --check` still exits 0.", kind(k.Cred.Type), where(k), k.Cred.Secret.Masked(), len(k.Cred.Secret.Reveal())),
			Remedy:   append(in.replaceRemedy(k), verifyRemedy()),
		})
	}
	return out
}}

func kind(typ string) string {
	switch typ {
	case "token":
		return "setup token"
	case "oauth":
		return "OAuth login"
	}
	return "API key"
}

// malformed returns why a secret — as OpenClaw sends it, after
// NormalizeSecret — cannot be a working Anthropic credential, or "" when its
// shape is plausible.
func malformed(typ, s string) string {
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return "it contains a space inside the key"
	}
	if strings.ContainsAny(s, `"'`+"`") {
		return "it contains quote characters (copied with quotes?)"
	}
	if strings.HasPrefix(s, "${") || strings.HasPrefix(s, "$") {
		return "it is an unexpanded variable reference"
	}
	switch typ {
	case "token":
		if !strings.HasPrefix(s, "sk-ant-oat01-") {
			return "setup tokens start with sk-ant-oat01-"
		}
		if len(s) < 80 {
			return "it is shorter than a setup token (80+ characters)"
		}
	default:
		switch {
		case strings.HasPrefix(s, "sk-ant-oat"):
			return "this is a setup/OAuth token stored as an API key (store it with paste-token)"
		case strings.HasPrefix(s, "sk-ant-admin"):
			return "this is an Admin API key, which cannot call models"
		case !strings.HasPrefix(s, "sk-ant-"):
			return "Anthropic API keys start with sk-ant-"
		case len(s) < 40:
			return "it is too short for an Anthropic API key"
		}
		if strings.IndexFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) >= 0 {
			return "it contains characters that never appear in Anthropic keys"
		}
	}
	return ""
}
