package diagnostics

var ruleConfigSyntax = Rule{Name: CodeConfigSyntax, Check: func(in *Input) []Finding {
	e := in.Snap.ConfigErr
	if e == nil {
		return nil
	}
	f := Finding{
		Code: CodeConfigSyntax, Severity: Critical, Subject: e.Path,
		Title:    "openclaw.json cannot be parsed: every OpenClaw command and the gateway fail",
		Evidence: e.Msg,
		Remedy: []string{
			"Fix the file at the position shown (it is JSON5: comments and trailing commas are allowed).",
			"OpenClaw keeps the previous version in " + e.Path + ".bak when it wrote the file itself.",
		},
		File: e.Path, Line: e.Line, Column: e.Column,
	}
	if f.Line == 0 { // unreadable rather than unparsable: still point at the file
		f.Line, f.Column = 1, 1
	}
	return []Finding{f}
}}
