package bot

import "strings"

// Inline splits text at backticks: `quoted` runs become code spans. An
// unmatched backtick is kept as text.
func Inline(s string) []Span {
	var out []Span
	for s != "" {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			out = append(out, T(s))
			break
		}
		j := strings.IndexByte(s[i+1:], '`')
		if j < 0 {
			out = append(out, T(s))
			break
		}
		if i > 0 {
			out = append(out, T(s[:i]))
		}
		if code := s[i+1 : i+1+j]; code != "" {
			out = append(out, C(code))
		}
		s = s[i+2+j:]
	}
	return out
}

// commandStarts begin the shell commands the diagnostics write without
// backticks after a ": " ("Store a valid key: printf … | openclaw …").
var commandStarts = []string{"openclaw ", "openclaw-bot ", "OPENCLAW_", "printf ", "claude "}

// Remedy renders one remedy line of a finding: backticked commands become
// code spans; in a line without backticks, a command after a ": " does.
func Remedy(s string) []Span {
	if strings.Contains(s, "`") {
		return Inline(s)
	}
	for i := strings.Index(s, ": "); i >= 0; {
		rest := s[i+2:]
		for _, p := range commandStarts {
			if !strings.HasPrefix(rest, p) {
				continue
			}
			cmd, tail := rest, ""
			if strings.HasSuffix(cmd, ".") {
				cmd, tail = cmd[:len(cmd)-1], "."
			}
			if strings.HasSuffix(cmd, ")") && strings.Count(cmd, ")") > strings.Count(cmd, "(") {
				cmd, tail = cmd[:len(cmd)-1], ")"+tail
			}
			out := []Span{T(s[:i+2]), C(cmd)}
			if tail != "" {
				out = append(out, T(tail))
			}
			return out
		}
		j := strings.Index(rest, ": ")
		if j < 0 {
			break
		}
		i += 2 + j
	}
	return []Span{T(s)}
}
