package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

const (
	fuzzEnvSecret  = "env-secret-value-0123456789"
	fuzzFileSecret = "file-secret-value-9876543210"
)

// fuzzOptions resolve every ${S…} variable and every *.txt file to a known
// secret, without touching the environment or the file system.
var fuzzOptions = parseOptions{
	getenv: func(name string) string {
		if strings.HasPrefix(name, "S") {
			return fuzzEnvSecret
		}
		return ""
	},
	readFile: func(p string) ([]byte, error) {
		if strings.HasSuffix(p, ".txt") {
			return []byte(fuzzFileSecret + "\n"), nil
		}
		return nil, errors.New("no such file")
	},
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(fullFile))
	if b, err := os.ReadFile(examplePath); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse(data, "fuzz.yaml", fuzzOptions)
		var outs []string
		if err != nil {
			if c != nil {
				t.Fatal("a failed parse returned a config")
			}
			ps := Problems(err)
			if len(ps) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			for _, p := range ps {
				if p.Msg == "" {
					t.Fatalf("empty problem in %v", err)
				}
			}
			outs = append(outs, err.Error())
		} else {
			if len(c.Targets) == 0 {
				t.Fatal("a parsed config has no target")
			}
			if verr := c.Validate(); verr != nil {
				t.Fatalf("a parsed config does not validate: %v", verr)
			}
			j, jerr := json.Marshal(c)
			if jerr != nil {
				t.Fatal(jerr)
			}
			outs = append(outs, string(j), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), strings.Join(c.Warnings, "\n"))
		}
		// Unless the input spells a secret out itself, no output shows one.
		if bytes.Contains(data, []byte("secret-value")) || bytes.ContainsRune(data, '\\') {
			return
		}
		for _, o := range outs {
			if strings.Contains(o, fuzzEnvSecret) || strings.Contains(o, fuzzFileSecret) {
				t.Fatalf("secret leaked:\n%s", o)
			}
		}
	})
}
