package diagnostics

import (
	"fmt"
	"strings"
)

// ruleModelRef: model refs that OpenClaw cannot route — no provider/ prefix,
// or a default model left out of a configured allow-list.
var ruleModelRef = Rule{Name: CodeModelRef, Check: func(in *Input) []Finding {
	c := in.Snap.Config
	if c == nil {
		return nil
	}
	var out []Finding
	for _, m := range c.Models() {
		p, id, ok := strings.Cut(m, "/")
		if ok && p != "" && id != "" {
			continue
		}
		out = append(out, Finding{
			Code: CodeModelRef, Severity: Warning, Subject: m,
			Title:    fmt.Sprintf("Model ref %q has no provider prefix", m),
			Evidence: fmt.Sprintf("Model refs are provider/model, e.g. anthropic/claude-opus-5; %q in %s is not, unless it is an alias.", m, c.Path),
			Remedy:   []string{"Set it explicitly: `" + in.cmd.run("", "models set anthropic/claude-opus-5") + "`."},
			File:     c.Path,
		})
	}
	if len(c.AllowModels) > 0 && c.DefaultModel != "" && !contains(c.AllowModels, c.DefaultModel) {
		out = append(out, Finding{
			Code: CodeModelRef, Severity: Warning, Subject: c.DefaultModel,
			Title:    "The default model is not in the allow-list agents.defaults.models",
			Evidence: fmt.Sprintf("agents.defaults.model.primary=%s; agents.defaults.models lists %s.", c.DefaultModel, strings.Join(c.AllowModels, ", ")),
			Remedy:   []string{"Add it to agents.defaults.models or choose an allowed model: `" + in.cmd.run("", "models set MODEL") + "`."},
			File:     c.Path,
		})
	}
	return out
}}
