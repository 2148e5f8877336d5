package diagnostics

import (
	"fmt"
	"strings"
)

// ruleFilesPermissions: files holding secrets readable by others. OpenClaw
// itself writes them 0600.
var ruleFilesPermissions = Rule{Name: CodeFilesPermissions, Check: func(in *Input) []Finding {
	var bad []string
	first := ""
	for _, f := range in.Snap.Files {
		if f.Mode&0o077 == 0 {
			continue
		}
		if first == "" {
			first = f.Path
		}
		bad = append(bad, fmt.Sprintf("%s is %04o", f.Path, f.Mode))
	}
	if len(bad) == 0 {
		return nil
	}
	return []Finding{{
		Code: CodeFilesPermissions, Severity: Warning, Subject: in.Snap.Location.StateDir,
		Title:    "Files holding credentials are readable by other users",
		Evidence: strings.Join(bad, "\n") + "\nOpenClaw writes these files 0600.",
		Remedy:   []string{"chmod 600 " + quoteAll(bad)},
		File:     first,
	}}
}}

func quoteAll(lines []string) string {
	var out []string
	for _, l := range lines {
		path, _, _ := strings.Cut(l, " is ")
		out = append(out, shellQuote(path))
	}
	return strings.Join(out, " ")
}
