package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetupAndRun keeps the fleet benchmark from rotting: five installs,
// one round through the same path as `fleet run`, and the JSON fields that
// bench/run.sh reads. It measures nothing.
func TestSetupAndRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := dispatch(t.Context(), []string{"setup", "-n", "5", dir}, &out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.yaml", "serve.yaml", "installs/t004/openclaw.json", "installs/t004/state/openclaw.sqlite"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("setup did not write %s: %v", f, err)
		}
	}

	for _, workers := range []string{"0", "2"} {
		out.Reset()
		// Flags after DIR, as in bench/run.sh.
		if err := dispatch(t.Context(), []string{"run", dir, "-rounds", "1", "-workers", workers}, &out); err != nil {
			t.Fatalf("workers %s: %v", workers, err)
		}
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("workers %s: output is not JSON: %v\n%s", workers, err, out.String())
		}
		for _, k := range []string{"round_p50_s", "round_p99_s", "round_max_s", "peak_go_stacks_mb", "peak_go_heap_objects_mb", "peak_goroutines"} {
			if _, ok := got[k].(float64); !ok {
				t.Errorf("workers %s: no number %q in %s", workers, k, out.String())
			}
		}
		want := map[string]float64{"targets": 5, "rounds": 1, "evaluations": 5, "profiles_seen": 4, "incidents_open": 5}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("workers %s: %s = %v, want %v", workers, k, got[k], v)
			}
		}
		if rs, _ := got["rounds_s"].([]any); len(rs) != 1 {
			t.Errorf("workers %s: rounds_s = %v, want one value", workers, got["rounds_s"])
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"run"}, {"setup", "a", "b"}, {"serve"}} {
		if err := dispatch(t.Context(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestPercentileAndProcKB(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := percentile(v, 50); p != 5 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(v, 99); p != 10 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(v[:1], 99); p != 1 {
		t.Errorf("p99 of one = %v", p)
	}
	status := []byte("Name:\tx\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n")
	if got := procKB(status, "VmRSS:"); got != 10240 {
		t.Errorf("VmRSS = %v", got)
	}
	if got := procKB(status, "VmSwap:"); got != 0 {
		t.Errorf("VmSwap = %v", got)
	}
	if !strings.Contains(usage, "fleet measure") {
		t.Error("usage lost a mode")
	}
}
