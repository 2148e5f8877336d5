package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/fleet"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// ErrNoFleet: the fleet commands need the postgres store.
var ErrNoFleet = errors.New("the fleet needs store.driver: postgres (README \"Fleet\"); this config uses SQLite: one instance, no fleet")

// fleetView opens the shared store and reads the instances and the
// database's clock. Close the store when done.
func fleetView(ctx context.Context, cfg *config.Config) (*store.Store, []store.Instance, time.Time, error) {
	if cfg.Store.Driver != config.StorePostgres {
		return nil, nil, time.Time{}, ErrNoFleet
	}
	st, err := store.OpenConfig(ctx, store.Config{Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Reveal()})
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	list, err := st.Instances(ctx)
	if err != nil {
		st.Close()
		return nil, nil, time.Time{}, err
	}
	now, err := st.Now(ctx)
	if err != nil {
		st.Close()
		return nil, nil, time.Time{}, err
	}
	return st, list, now, nil
}

// alive is how old a heartbeat may be for its instance to count as
// running (fleet.MissedBeats beats).
func alive(cfg *config.Config) time.Duration { return fleet.MissedBeats * cfg.Fleet.HeartbeatEvery }

// FleetStatus prints every instance of the fleet: its state (running,
// silent, stopped), heartbeat age, host, pid and targets; as JSON with
// asJSON. It reads the shared store only.
func FleetStatus(ctx context.Context, cfg *config.Config, w io.Writer, asJSON bool) error {
	st, list, now, err := fleetView(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	type row struct {
		Name      string    `json:"name"`
		State     string    `json:"state"`
		Host      string    `json:"host"`
		PID       int       `json:"pid"`
		Version   string    `json:"version"`
		Heartbeat time.Time `json:"heartbeat"`
		Since     time.Time `json:"silent_since,omitzero"`
		Targets   []string  `json:"targets"`
	}
	rows := []row{}
	for _, in := range list {
		rows = append(rows, row{Name: in.Name, State: in.State(now, alive(cfg)), Host: in.Host, PID: in.PID, Version: in.Version,
			Heartbeat: in.Heartbeat, Since: in.SilentSince, Targets: append([]string{}, in.Targets...)})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"instances": rows})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tSTATE\tHEARTBEAT\tHOST\tPID\tTARGETS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s ago\t%s\t%d\t%s\n", r.Name, r.State, now.Sub(r.Heartbeat).Round(time.Second), r.Host, r.PID, strings.Join(r.Targets, ","))
	}
	return tw.Flush()
}

// FleetForget removes an instance that is gone for good: its row, its
// target claims (free for another instance's config) and its reports. A
// running instance is refused: stop it first.
func FleetForget(ctx context.Context, cfg *config.Config, name string, w io.Writer) error {
	st, list, now, err := fleetView(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, in := range list {
		if in.Name == name && in.State(now, alive(cfg)) == store.InstanceRunning {
			return fmt.Errorf("instance %s is running (heartbeat %s ago on host %s): stop it first", name, now.Sub(in.Heartbeat).Round(time.Second), in.Host)
		}
	}
	found, err := st.ForgetInstance(ctx, name, now)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no instance %q in the fleet (openclaw-bot fleet status lists them)", name)
	}
	fmt.Fprintf(w, "forgot instance %s: its targets are free\n", name)
	return nil
}

// FleetUsage is `openclaw-bot fleet --help`.
const FleetUsage = `Usage: openclaw-bot fleet status [--json] [--config FILE]
       openclaw-bot fleet forget NAME [--config FILE]

The instances sharing the PostgreSQL store (README "Fleet"): status lists them
(running, late, silent, stopped) with their targets; forget removes an instance
gone for good, freeing its targets for another instance's config.

Flags:
`

// Fleet runs `openclaw-bot fleet <sub> [name]`.
func Fleet(ctx context.Context, cfg *config.Config, sub, name string, asJSON bool, w io.Writer) error {
	switch {
	case sub == "status" && name == "":
		return FleetStatus(ctx, cfg, w, asJSON)
	case sub == "forget" && name != "":
		return FleetForget(ctx, cfg, name, w)
	}
	return fmt.Errorf("usage: openclaw-bot fleet status [--json] | fleet forget NAME (see --help)")
}
