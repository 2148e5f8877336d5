// Package diagnostics turns a snapshot of an OpenClaw install into findings:
// each with a stable code, a severity, redacted evidence and remedies that are
// true for the detected OpenClaw version. Every code has a row in one table
// (codes.go); one rule a file (rule_*.go).
package diagnostics

import (
	"sort"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/severity"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Severity of a finding.
type Severity string

// Severities, from worst to mildest.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Finding is one diagnosis. Evidence never contains a secret.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Subject  string   `json:"subject"`
	Title    string   `json:"title"`
	Evidence string   `json:"evidence"`
	Remedy   []string `json:"remedy"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	// Until is when a time-bound condition (cooldown, disable) ends.
	Until time.Time `json:"until,omitzero"`
}

// Input is what the rules look at.
type Input struct {
	Snap *openclaw.Snapshot
	Now  time.Time
	// Checks holds zero-token key check results by credential fingerprint
	// (redact.Fingerprint of the secret). Empty without --probe.
	Checks map[string]KeyCheck
	// PreviousVersion is the OpenClaw version seen at the last evaluation
	// ("" when unknown); used for version.changed.
	PreviousVersion string
	// SecretChanges is what serve remembers of secrets changing, by
	// SecretKey (SecretMemory.Changes); nil for a one-shot status, where
	// only the store's own write time can tell (cooldown.stale).
	SecretChanges map[string]SecretChange

	cmd  *commander
	keys []keyRef
}

// Rule inspects the input and returns findings.
type Rule struct {
	Name  string
	Check func(in *Input) []Finding
}

// Rules is the rule set: every rule of the code table, in its order.
func Rules() []Rule { return append([]Rule(nil), rules...) }

// Evaluate runs every rule and returns the findings, worst first.
func Evaluate(in *Input) []Finding {
	in.prepare()
	var out []Finding
	for _, r := range rules {
		out = append(out, r.Check(in)...)
	}
	SortFindings(out)
	return out
}

// SortFindings orders findings by severity, then code, then subject.
func SortFindings(f []Finding) {
	sort.SliceStable(f, func(i, j int) bool {
		if a, b := severity.Rank(f[i].Severity), severity.Rank(f[j].Severity); a != b {
			return a < b
		}
		if f[i].Code != f[j].Code {
			return f[i].Code < f[j].Code
		}
		return f[i].Subject < f[j].Subject
	})
}

// Verdict is down with any critical finding, degraded with warnings only.
func Verdict(f []Finding) string {
	v := "ok"
	for _, x := range f {
		switch x.Severity {
		case Critical:
			return "down"
		case Warning:
			v = "degraded"
		}
	}
	return v
}

// ExitCode maps findings to the contract's exit codes: 0 clean, 1 critical,
// 2 warnings only.
func ExitCode(f []Finding) int {
	switch Verdict(f) {
	case "down":
		return 1
	case "degraded":
		return 2
	}
	return 0
}
