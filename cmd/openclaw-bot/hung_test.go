package main

import (
	"strings"
	"testing"
	"time"
)

// `status` on an install whose database is a FIFO answers at once: rc 1,
// state.unreadable naming the file.
func TestStatusFIFOStateDB(t *testing.T) {
	dir := install(t, "", "", "")
	db := fifoDB(t, dir)
	start := time.Now()
	out, errOut, rc := runCmd(t, "", "status", "--json", "--state-dir", dir)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("status took %s", took)
	}
	if rc != exitCritical || !strings.Contains(out, `"state.unreadable"`) || !strings.Contains(out, db+" is not a regular file (a FIFO)") {
		t.Errorf("rc %d\n%s\n%s", rc, out, errOut)
	}
}
