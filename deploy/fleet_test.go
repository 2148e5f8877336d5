package deploy_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/openclaw-bot/openclaw-bot/config"
)

// deploy/fleet/compose.yaml: PostgreSQL and two bots on two "hosts".
// Each bot's config loads with exactly the environment compose gives it,
// uses the postgres store and its own instance name and targets, and
// shares every fleet-wide section with the other; every key is known.
func TestFleetCompose(t *testing.T) {
	src := readFile(t, "deploy/fleet/compose.yaml")
	var cf composeFile
	if err := yaml.Unmarshal([]byte(src), &cf); err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatal(err)
	}
	doc := root.Content[0]
	for i := 0; i < len(doc.Content); i += 2 {
		if k := doc.Content[i].Value; !slices.Contains(composeTopKeys, k) {
			t.Errorf("unknown top-level key %q", k)
		}
		if doc.Content[i].Value != "services" {
			continue
		}
		svcs := doc.Content[i+1]
		for j := 1; j < len(svcs.Content); j += 2 {
			for k := 0; k < len(svcs.Content[j].Content); k += 2 {
				if key := svcs.Content[j].Content[k].Value; !slices.Contains(composeServiceKeys, key) {
					t.Errorf("service %s: unknown key %q", svcs.Content[j-1].Value, key)
				}
			}
		}
	}
	if _, ok := cf.Services["postgres"]; !ok {
		t.Fatal("no postgres service")
	}
	var cfgs []*config.Config
	for _, name := range []string{"bot-a", "bot-b"} {
		svc, ok := cf.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if _, ok := svc.DependsOn["postgres"]; !ok {
			t.Errorf("%s: does not wait for postgres", name)
		}
		if svc.ReadOnly != true || !slices.Contains(svc.CapDrop, "ALL") || svc.User == "" {
			t.Errorf("%s: read_only %v, cap_drop %v, user %q: want the sidecar's hardening", name, svc.ReadOnly, svc.CapDrop, svc.User)
		}
		if hc := fmt.Sprint(svc.Healthcheck["test"]); !strings.Contains(hc, "openclaw-bot healthcheck") {
			t.Errorf("%s: healthcheck %q, want the binary's own probe", name, hc)
		}
		var file string
		for _, v := range svc.Volumes {
			if strings.HasSuffix(v, ":/etc/openclaw-bot/config.yaml:ro") {
				file = strings.TrimPrefix(strings.Split(v, ":")[0], "./")
			}
		}
		if file == "" {
			t.Fatalf("%s: no config mounted at /etc/openclaw-bot/config.yaml", name)
		}
		t.Run(name, func(t *testing.T) {
			for k := range svc.Environment {
				t.Setenv(k, "test-"+strings.ToLower(k))
			}
			t.Setenv("OPENCLAW_BOT_STORE_DSN", "postgres://openclaw_bot:pw@postgres:5432/openclaw_bot?sslmode=disable")
			cfg, err := config.Load(filepath.Join(repoRoot(t), "deploy", "fleet", file))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if cfg.Store.Driver != config.StorePostgres || cfg.Instance.Name == "" {
				t.Errorf("%s: store %q, instance %q: want postgres and a name", file, cfg.Store.Driver, cfg.Instance.Name)
			}
			cfgs = append(cfgs, cfg)
		})
	}
	if len(cfgs) != 2 {
		return
	}
	a, b := cfgs[0], cfgs[1]
	if a.Instance.Name == b.Instance.Name {
		t.Errorf("both bots are instance %q", a.Instance.Name)
	}
	for _, ta := range a.Targets {
		if _, dup := b.Target(ta.Name); dup {
			t.Errorf("target %s in both instances' configs", ta.Name)
		}
	}
	for _, s := range []struct {
		key  string
		x, y any
	}{{"store.driver", a.Store.Driver, b.Store.Driver}, {"slack", a.Slack, b.Slack}, {"telegram", a.Telegram, b.Telegram},
		{"access", a.Access, b.Access}, {"alerts", a.Alerts, b.Alerts}, {"fleet", a.Fleet, b.Fleet}} {
		if !reflect.DeepEqual(s.x, s.y) {
			t.Errorf("%s differs between the instances: %s", s.key, fmt.Sprint(s.x, " vs ", s.y))
		}
	}
}
