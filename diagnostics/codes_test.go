package diagnostics

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// emission is one finding a rule returned: which rule, which severity.
type emission struct {
	rule *Rule
	sev  Severity
}

// codeTableProblems lists every way the code table, what the rules emit
// and the README's finding table disagree: a code in the table that no
// rule emits (or that the wrong rule emits, or with another severity), a
// code a rule emits that is not in the table, a code the README does not
// document or one it documents that is not in the table.
func codeTableProblems(table []CodeSpec, emitted map[string][]emission, documented []string) []string {
	var out []string
	rows := map[string]CodeSpec{}
	for _, s := range table {
		if _, dup := rows[s.Code]; dup {
			out = append(out, s.Code+": two rows in the code table")
		}
		rows[s.Code] = s
		if len(s.Severities) == 0 {
			out = append(out, s.Code+": no severity in the code table")
		}
		if s.Rule != nil && !slices.ContainsFunc(emitted[s.Code], func(e emission) bool { return e.rule == s.Rule }) {
			out = append(out, s.Code+": its rule emits it in no state of ruleCases or issue11Cases (add one)")
		}
		if !slices.Contains(documented, s.Code) {
			out = append(out, s.Code+": not in the README's finding table")
		}
	}
	for _, code := range sortedKeys(emitted) {
		row, ok := rows[code]
		if !ok {
			out = append(out, code+": a rule emits it, but it has no row in the code table")
			continue
		}
		for _, e := range emitted[code] {
			if e.rule != row.Rule {
				out = append(out, code+": emitted by a rule its row does not name")
			}
			if !slices.Contains(row.Severities, e.sev) {
				out = append(out, fmt.Sprintf("%s: emitted as %s, the code table says %v", code, e.sev, row.Severities))
			}
		}
	}
	for _, code := range documented {
		if _, ok := rows[code]; !ok {
			out = append(out, code+": in the README's finding table, but not in the code table")
		}
	}
	return slices.Compact(out)
}

// readmeCodes returns the codes in the first column of the README's finding
// table (the table under "### Findings").
func readmeCodes(t *testing.T) []string {
	b, err := os.ReadFile("../README.md")
	mustNil(t, err)
	_, section, ok := strings.Cut(string(b), "\n### Findings\n")
	if !ok {
		t.Fatal(`README.md has no "### Findings" section`)
	}
	if i := strings.Index(section, "\n#"); i >= 0 {
		section = section[:i]
	}
	var out []string
	code := regexp.MustCompile("`([a-z_]+\\.[a-z_]+)`")
	for _, line := range strings.Split(section, "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 && strings.HasPrefix(line, "| `") {
			for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// emitted runs every rule on its own over every state of the rule tests.
func emitted(t *testing.T) map[string][]emission {
	var inputs []*Input
	for _, tc := range ruleCases() {
		inputs = append(inputs, tc.input(t))
	}
	for _, tc := range issue11Cases() {
		inputs = append(inputs, ruleCase{build: tc.build}.input(t))
	}
	out := map[string][]emission{}
	for _, in := range inputs {
		in.prepare()
		for _, s := range codeTable {
			if s.Rule == nil {
				continue
			}
			for _, f := range s.Rule.Check(in) {
				if e := (emission{s.Rule, f.Severity}); !slices.Contains(out[f.Code], e) {
					out[f.Code] = append(out[f.Code], e)
				}
			}
		}
	}
	return out
}

// Every code of the table is emitted by its rule in some test state, with
// a severity the table lists; every code a rule emits is in the table;
// the README documents exactly the table's codes.
func TestCodeTable(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("macOS keeps Claude Code's login in the keychain: auth.external's states need Linux")
	}
	for _, p := range codeTableProblems(codeTable, emitted(t), readmeCodes(t)) {
		t.Error(p)
	}
}

// Each missing piece is caught: a row, a rule's emission, a severity, a
// README line.
func TestCodeTableProblems(t *testing.T) {
	other := &Rule{Name: "other"}
	table := []CodeSpec{
		{Code: "a.one", Severities: crit, Rule: &ruleAuthMissing},
		{Code: "b.two", Severities: infoOrWarn, Rule: &ruleAuthMissing},
		{Code: "c.serve", Severities: crit},
	}
	emitted := map[string][]emission{"a.one": {{&ruleAuthMissing, Critical}}, "b.two": {{&ruleAuthMissing, Warning}}}
	documented := []string{"a.one", "b.two", "c.serve"}
	if p := codeTableProblems(table, emitted, documented); len(p) != 0 {
		t.Fatalf("a consistent table has problems: %q", p)
	}
	for _, tc := range []struct {
		name       string
		table      []CodeSpec
		emitted    map[string][]emission
		documented []string
		want       string
	}{
		{"a row no rule emits", table, map[string][]emission{"a.one": emitted["a.one"]}, documented, "b.two: its rule emits it in no state"},
		{"a code a rule emits without a row", table[1:], emitted, documented[1:], "a.one: a rule emits it, but it has no row"},
		{"another rule emits it", table, map[string][]emission{"a.one": emitted["a.one"], "b.two": {{other, Warning}}}, documented, "b.two: emitted by a rule its row does not name"},
		{"another severity", table, map[string][]emission{"a.one": {{&ruleAuthMissing, Info}}, "b.two": emitted["b.two"]}, documented, "a.one: emitted as info"},
		{"not in the README", table, emitted, documented[:2], "c.serve: not in the README's finding table"},
		{"in the README only", table, emitted, append(documented, "d.gone"), "d.gone: in the README's finding table, but not in the code table"},
		{"two rows", append(table, table[2]), emitted, documented, "c.serve: two rows"},
		{"no severity", append(table[:2:2], CodeSpec{Code: "c.serve"}), emitted, documented, "c.serve: no severity"},
	} {
		p := codeTableProblems(tc.table, tc.emitted, tc.documented)
		if !slices.ContainsFunc(p, func(s string) bool { return strings.HasPrefix(s, tc.want) }) {
			t.Errorf("%s: problems %q, want one starting %q", tc.name, p, tc.want)
		}
	}
}

// The rules run in the table's order, each once.
func TestRulesFromTable(t *testing.T) {
	seen := map[*Rule]bool{}
	var want []string
	for _, s := range codeTable {
		if s.Rule != nil && !seen[s.Rule] {
			seen[s.Rule] = true
			want = append(want, s.Rule.Name)
		}
	}
	var got []string
	for _, r := range Rules() {
		got = append(got, r.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Rules() = %v, want the table's %v", got, want)
	}
	if s := Spec("no.such_code"); s.Kind != KindFact || !s.GatewayMuted || s.Button != ButtonNone {
		t.Errorf("an unknown code is %+v, want a muted fact without a button", s)
	}
}
