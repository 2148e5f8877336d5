// Package severity is the one order of severities, worst first, shared by
// findings (diagnostics.Severity) and chat messages (bot.Severity). It
// imports nothing of the module: package bot must not depend on diagnostics.
package severity

// Rank orders severities: critical 0, warning 1, info 2, anything else
// (a message's "resolved", an empty one) 3. Lower is worse.
func Rank[S ~string](s S) int {
	switch s {
	case "critical":
		return 0
	case "warning":
		return 1
	case "info":
		return 2
	}
	return 3
}
