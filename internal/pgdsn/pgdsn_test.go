package pgdsn

import (
	"strings"
	"testing"
)

func TestRedactAndPassword(t *testing.T) {
	for _, tc := range []struct {
		dsn, redacted, password string
	}{
		{"postgres://bot:s3cr%2Fet@db.example:5432/openclaw?sslmode=verify-full",
			"postgres://bot:xxxxx@db.example:5432/openclaw?sslmode=verify-full", "s3cr/et"},
		{"postgresql://bot@db/openclaw?password=s3cret&sslmode=require",
			"postgresql://bot@db/openclaw?password=xxxxx&sslmode=require", "s3cret"},
		{"postgres://db/openclaw", "postgres://db/openclaw", ""},
		{"host=db user=bot password=s3cret dbname=openclaw", "host=db user=bot password=xxxxx dbname=openclaw", "s3cret"},
		{"host=db password = 'with space \\' quote' dbname=x", "host=db password=xxxxx dbname=x", "with space ' quote"},
		{"host=/run/postgresql dbname=openclaw", "host=/run/postgresql dbname=openclaw", ""},
	} {
		if got := Redact(tc.dsn); got != tc.redacted {
			t.Errorf("Redact(%q) = %q, want %q", tc.dsn, got, tc.redacted)
		}
		if got := Password(tc.dsn); got != tc.password {
			t.Errorf("Password(%q) = %q, want %q", tc.dsn, got, tc.password)
		}
		if err := Check(tc.dsn); err != nil {
			t.Errorf("Check(%q) = %v", tc.dsn, err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, bad := range []string{
		"",
		"   ",
		"mysql://bot:s3cret@db/x",
		"postgres://bot:s3cret@db:5432/x?%zz",
		"postgres://bot:s3%zzcret@db/x",
		"host=db password='s3cret",
		"host=db s3cret",
		"HOST=db",
		"just-a-word-s3cret",
	} {
		err := Check(bad)
		if err == nil {
			t.Errorf("Check(%q) accepted it", bad)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Check(%q) quotes the secret: %v", bad, err)
		}
		if r := Redact(bad); strings.Contains(r, "s3cret") {
			t.Errorf("Redact(%q) = %q", bad, r)
		}
	}
}
