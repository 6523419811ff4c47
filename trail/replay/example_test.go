package replay_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/agent-audit/agent-audit/queries"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/replay"
)

// Replay the failed runs of a local root into a Collector or Jaeger on localhost, configured as an SDK would be.
func ExampleReplay() {
	ctx := context.Background()
	root := "./audit-data"
	db, err := queries.Open(ctx, root)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	sel, err := replay.Select(ctx, db, root, replay.Filter{ErrorsOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := replay.ConfigFromEnv(os.LookupEnv) // OTEL_EXPORTER_OTLP_*, default http://localhost:4318
	if err != nil {
		log.Fatal(err)
	}
	exp, err := replay.NewExporter(cfg)
	if err != nil {
		log.Fatal(err)
	}
	sum, err := replay.Replay(ctx, trail.NewLocal(root), sel, exp, replay.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d traces delivered, %d spans\n", sum.Traces, sum.Selected, sum.Spans)
	for _, f := range sum.Failures {
		fmt.Println(f.TraceID, f.Err)
	}
}

func ExampleConfigFromEnv() {
	env := map[string]string{
		replay.EnvEndpoint: "https://otel.example.com:4318",
		replay.EnvHeaders:  "x-team=audit,x-note=replayed%20run",
		replay.EnvProtocol: "http/json",
	}
	cfg, err := replay.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Endpoint, cfg.Protocol, cfg.Headers["x-note"])
	// Output: https://otel.example.com:4318/v1/traces http/json replayed run
}
