package bot

import (
	"testing"
	"time"
)

func TestRelative(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		0: "now", 29 * time.Second: "in 29s", 4 * time.Minute: "in 4m", -4 * time.Minute: "4m ago",
		3*time.Hour + 25*time.Minute: "in 3h 25m", 2 * time.Hour: "in 2h", time.Hour + 59*time.Minute + 50*time.Second: "in 2h",
		50 * time.Hour: "in 2d 2h", -48 * time.Hour: "2d ago",
	} {
		if got := Relative(now.Add(d), now); got != want {
			t.Errorf("Relative(%v) = %q, want %q", d, got, want)
		}
	}
	if UTF16Len("a😀é") != 4 {
		t.Error("UTF16Len counts a surrogate pair as 2")
	}
}
