package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// options are the harness flags.
type options struct {
	Quick     bool
	Scenarios string // comma-separated names; empty = all
	Servers   string // comma-separated names
	Out       string // RESULTS.md path
	RawDir    string // loadtest JSON and logs
	Repo      string // module root
	Ref       string // git ref to build instead of the working tree; empty = working tree
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.Quick, "quick", false, "shrink every scenario ~10× for a smoke run")
	fs.StringVar(&o.Scenarios, "scenarios", "", "comma-separated scenarios to run (default all: idle,fanout,ceiling,many-topics,churn,one-per-conn,batched,tail,tail-remote)")
	fs.StringVar(&o.Servers, "servers", strings.Join(allServers, ","), "comma-separated servers to measure")
	fs.StringVar(&o.Out, "out", "benchmarks/RESULTS.md", "markdown report to write")
	fs.StringVar(&o.RawDir, "raw-dir", "benchmarks/out", "directory for raw loadtest JSON and logs")
	fs.StringVar(&o.Repo, "repo", ".", "module root to build from")
	fs.StringVar(&o.Ref, "ref", "", "build this git ref (e.g. HEAD) from a clean export instead of the working tree")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("e2e: unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// selectServers validates a comma-separated server list.
func selectServers(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, ok := packages[s]; !ok {
			return nil, fmt.Errorf("%w %q", errUnknownServer, s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: none selected", errUnknownServer)
	}
	return out, nil
}

// run executes the harness and returns the exit status: 0 when the report
// was written (failed runs are part of it), 1 when it could not be, 2 on
// bad flags.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return 2
	}
	selected, err := selectScenarios(scenarios(o.Quick), o.Scenarios)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	servers, err := selectServers(o.Servers)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := execute(ctx, o, selected, servers, stderr); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func execute(ctx context.Context, o options, selected []scenario, servers []string, progress io.Writer) error {
	began := time.Now()
	repo, err := filepath.Abs(o.Repo)
	if err != nil {
		return err
	}
	rawDir := o.RawDir
	if !filepath.IsAbs(rawDir) {
		rawDir = filepath.Join(repo, rawDir)
	}
	loadBefore := readLoadAvg()
	if err := os.MkdirAll(rawDir, 0o755); err != nil {
		return err
	}
	binDir, err := os.MkdirTemp("", "subhub-e2e-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)

	// Resolve the commit before building: others may commit during the run.
	commit, dirty := gitCommit(ctx, o.Repo, o.Ref)
	src := o.Repo
	if o.Ref != "" {
		if commit == "unknown" {
			return fmt.Errorf("e2e: --ref %s: not a commit", o.Ref)
		}
		if src, err = exportRef(ctx, o.Repo, commit, binDir); err != nil {
			return err
		}
	}
	h := &harness{repo: src, binDir: binDir, rawDir: rawDir, progress: progress, ready: 20 * time.Second, slack: 2 * time.Minute, shownRepo: repo}
	build, err := h.build(ctx)
	if err != nil {
		return err
	}
	ns, err := startNATS()
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	h.natsURL = ns.ClientURL()
	fmt.Fprintf(progress, "e2e: NATS at %s\n", h.natsURL)

	total := 0
	for _, sc := range selected {
		total += len(sc.jobs(servers))
	}
	var runs []*measurement
	n := 0
	for _, sc := range selected {
		stopped := map[string]bool{} // servers past their ceiling
		for _, j := range sc.jobs(servers) {
			if ctx.Err() != nil {
				break
			}
			if stopped[j.Server] {
				continue
			}
			n++
			fmt.Fprintf(progress, "e2e: [%d/≤%d] %s / %s %s: %d conns, %g msg/s ...\n", n, total, sc.Name, j.Server, j.Step, j.Load.Conns, j.Load.Rate)
			r := h.runOne(ctx, sc, j.Load, j.Step, j.Server)
			runs = append(runs, r)
			fmt.Fprintf(progress, "e2e:     %s conns, %s deliveries/s, p99 %s ms, loss %s, CPU-s/M %s, RSS KiB/conn %s %s\n",
				fmtBig(float64(r.M.Conns)), fmtBig(r.M.DeliveriesPerSec), fmtNum(r.M.P99, 2), fmtNum(r.M.Loss, 5),
				fmtNum(r.M.CPUPerMillion, 2), fmtNum(r.M.RSSPerConnKiB, 1), r.Note)
			if len(sc.Rates) > 0 && (r.Result == nil || !r.M.keepsUp()) {
				stopped[j.Server] = true // the ceiling is behind us
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(progress, "e2e: interrupted; writing a partial report\n")
	}

	cmd := "go run ./benchmarks/e2e"
	if o.Quick {
		cmd += " --quick"
	}
	if o.Scenarios != "" {
		cmd += " --scenarios " + o.Scenarios
	}
	if o.Servers != strings.Join(allServers, ",") {
		cmd += " --servers " + o.Servers
	}
	if o.Ref != "" {
		cmd += " --ref " + o.Ref
	}
	rep := report{
		Date:     began,
		Commit:   commit,
		Dirty:    dirty,
		Quick:    o.Quick,
		Command:  cmd,
		Machine:  readMachine(),
		NATS:     fmt.Sprintf("one nats-server v%s embedded in the harness on a free loopback port, default max_payload, write_deadline %s", natsserver.VERSION, natsWriteDeadline),
		Build:    append(build, "NATS=nats://127.0.0.1:4222  # a nats-server with write_deadline: \""+natsWriteDeadline.String()+"\""),
		Runs:     runs,
		Selected: selected,
		Elapsed:  time.Since(began),
		LoadAvg:  [2]string{loadBefore, readLoadAvg()},
	}
	out := o.Out
	if !filepath.IsAbs(out) {
		out = filepath.Join(o.Repo, out)
	}
	var section strings.Builder
	if err := writeMarkdown(&section, rep); err != nil {
		return err
	}
	existing, err := os.ReadFile(out)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(out, spliceReport(existing, section.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(progress, "e2e: wrote %s (%d runs in %s)\n", out, len(runs), rep.Elapsed.Round(time.Second))
	for _, hl := range headlines(runs) {
		fmt.Fprintf(progress, "e2e: %-56s %-13s subhub/naive %s  subhub/floor %s\n", hl.Metric, hl.Scenario,
			fmtRatio(ratio(hl.value(serverSubhub), hl.value(serverNaive))), fmtRatio(ratio(hl.value(serverSubhub), hl.value(serverFloor))))
	}
	return ctx.Err()
}
