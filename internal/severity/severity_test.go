package severity

import "testing"

type sev string

func TestRank(t *testing.T) {
	order := []sev{"critical", "warning", "info", "resolved"}
	for i, s := range order {
		if Rank(s) != i {
			t.Errorf("Rank(%q) = %d, want %d", s, Rank(s), i)
		}
	}
	if Rank("") != 3 || Rank("error") != 3 {
		t.Error("unknown severities rank last")
	}
}
