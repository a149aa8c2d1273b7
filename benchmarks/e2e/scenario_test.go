package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadArgs(t *testing.T) {
	tests := []struct {
		name string
		load load
		want string
	}{
		{
			name: "minimal",
			load: load{Conns: 10},
			want: "--conns 10 --rate 0",
		},
		{
			name: "everything",
			load: load{
				Conns:        15000,
				Ramp:         5000,
				SubsPerConn:  10,
				Topics:       100,
				Rate:         2.5,
				PayloadBytes: 256,
				Churn:        1000,
				Duration:     10 * time.Second,
				Warmup:       time.Second,
				Drain:        1500 * time.Millisecond,
				Workers:      2,
				SourceIPs:    sourceIPs,
			},
			want: "--conns 15000 --ramp 5000 --subs-per-conn 10 --topics 100 --rate 2.5 --payload-bytes 256 --churn 1000 " +
				"--duration 10s --warmup 1s --drain 1.5s --workers 2 --source-ips 127.0.0.2-127.0.0.20",
		},
		{
			name: "remote clients",
			load: load{Conns: 10, Rate: 1, Remote: true},
			want: "--conns 10 --rate 1 --kernel-timestamps --sched-idle",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, strings.Join(tt.load.args(), " "))
		})
	}
}

func TestScenariosMatchTheIssue(t *testing.T) {
	full := scenarios(false)
	byName := map[string]scenario{}
	var names []string
	for _, s := range full {
		byName[s.Name] = s
		names = append(names, s.Name)
		require.LessOrEqual(t, s.Load.Duration, 30*time.Second, "%s: each scenario is capped", s.Name)
		require.LessOrEqual(t, s.Load.Conns, 15000, "%s: a hub process holds at most 15,000 connections", s.Name)
		require.NotEmpty(t, s.About)
	}
	require.Equal(t, []string{"idle", "fanout", "ceiling", "many-topics", "churn", "one-per-conn", "batched", "tail", "tail-remote"}, names)
	require.Equal(t, 15000, byName["idle"].Load.Conns)
	require.Equal(t, 2, byName["idle"].Load.Workers)
	require.Equal(t, sourceIPs, byName["idle"].Load.SourceIPs)
	require.Equal(t, []float64{1, 5, 10, 20, 50, 100}, byName["fanout"].Rates)
	require.Equal(t, 10000, byName["fanout"].Load.Conns)
	require.Equal(t, 5000, byName["many-topics"].Load.Topics)
	require.Equal(t, []float64{5000, 50000}, byName["many-topics"].Rates, "the second step gives each of the 10,000 connections 10 msg/s, as one-per-conn")
	for _, name := range []string{"tail", "one-per-conn", "batched"} {
		require.Equal(t, 3, byName[name].Repeat, "%s: a ratio of ~10 %% needs the median of interleaved rounds on this noisy machine", name)
	}
	require.Equal(t, 1000.0, byName["churn"].Load.Churn)
	require.Equal(t, load{Conns: 10000, Topics: 1, Rate: 10}, pick(byName["one-per-conn"].Load))
	require.Equal(t, load{Conns: 1000, SubsPerConn: 10, Topics: 10, Rate: 200}, pick(byName["batched"].Load))
	require.Equal(t, load{Conns: 1000, Topics: 1, Rate: 20}, pick(byName["tail"].Load))
	remote := byName["tail-remote"]
	require.Equal(t, load{Conns: 10000, Topics: 1}, pick(remote.Load), "the 10,000-connection tail target")
	require.True(t, remote.Load.Remote)
	require.Equal(t, []float64{1, 5}, remote.Rates, "the rates where floor's single writer keeps up")
	require.Equal(t, 3, remote.Repeat)
	for name, s := range byName {
		require.Equal(t, name == "tail-remote", s.Load.Remote, "%s: only tail-remote changes how the load tool measures", name)
	}

	for i, q := range scenarios(true) {
		f := full[i]
		require.Equal(t, f.Name, q.Name)
		require.InDelta(t, float64(f.Load.Conns)/10, float64(q.Load.Conns), 1, "%s: quick has a tenth of the connections", q.Name)
		require.LessOrEqual(t, q.Load.Duration, 3*time.Second)
		require.LessOrEqual(t, q.Load.Topics, q.Load.Conns*max(q.Load.SubsPerConn, 1))
	}
	quickByName := map[string]scenario{}
	for _, q := range scenarios(true) {
		quickByName[q.Name] = q
	}
	require.Equal(t, load{Conns: 1000, Topics: 500}, pick(quickByName["many-topics"].Load), "two subscribers per topic, as in full")
	require.Equal(t, []float64{500, 5000}, quickByName["many-topics"].Rates, "per-topic rates as in full")
	require.Equal(t, 2, quickByName["tail"].Repeat)
	require.Equal(t, []float64{5000, 50000}, byName["many-topics"].Rates, "shrinking a copy leaves the full scenario alone")
}

// pick keeps the fields that define a target scenario's shape.
func pick(l load) load {
	return load{Conns: l.Conns, SubsPerConn: l.SubsPerConn, Topics: l.Topics, Rate: l.Rate}
}

func TestSteps(t *testing.T) {
	s := scenario{Name: "fanout", Load: load{Conns: 5, Rate: 99}, Rates: []float64{1, 2.5}}
	loads, labels := s.steps()
	require.Equal(t, []string{"rate=1", "rate=2.5"}, labels)
	require.Equal(t, 1.0, loads[0].Rate)
	require.Equal(t, 2.5, loads[1].Rate)
	require.Equal(t, 5, loads[1].Conns)

	s.Rates = nil
	loads, labels = s.steps()
	require.Equal(t, []string{""}, labels)
	require.Equal(t, []load{{Conns: 5, Rate: 99}}, loads)
}

func TestJobs(t *testing.T) {
	servers := []string{"subhub", "floor"}
	steps := scenario{Load: load{Conns: 5}, Rates: []float64{1, 2}}
	var got []string
	for _, j := range steps.jobs(servers) {
		got = append(got, j.Server+" "+j.Step)
	}
	require.Equal(t, []string{"subhub rate=1", "subhub rate=2", "floor rate=1", "floor rate=2"}, got, "server by server through the steps")

	rounds := scenario{Load: load{Conns: 5, Rate: 3}, Repeat: 2}
	got = nil
	for _, j := range rounds.jobs(servers) {
		got = append(got, j.Server+" "+j.Step)
		require.Equal(t, 3.0, j.Load.Rate)
	}
	require.Equal(t, []string{"subhub run=1", "floor run=1", "subhub run=2", "floor run=2"}, got, "rounds interleave the servers")

	both := scenario{Load: load{Conns: 5}, Rates: []float64{1, 5}, Repeat: 2}
	got = nil
	for _, j := range both.jobs(servers) {
		got = append(got, j.Server+" "+j.Step)
	}
	require.Equal(t, []string{"subhub rate=1 run=1", "subhub rate=5 run=1", "floor rate=1 run=1", "floor rate=5 run=1",
		"subhub rate=1 run=2", "subhub rate=5 run=2", "floor rate=1 run=2", "floor rate=5 run=2"}, got, "rounds of steps")
}

func TestSelectScenarios(t *testing.T) {
	all := scenarios(false)
	tests := []struct {
		name    string
		list    string
		want    []string
		wantErr error
	}{
		{
			name: "empty selects all",
			list: "",
			want: []string{"idle", "fanout", "ceiling", "many-topics", "churn", "one-per-conn", "batched", "tail", "tail-remote"},
		},
		{
			name: "run order, not list order",
			list: "tail, idle",
			want: []string{"idle", "tail"},
		},
		{
			name:    "unknown",
			list:    "idle,nope",
			wantErr: errUnknownScenario,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectScenarios(all, tt.list)
			require.ErrorIs(t, err, tt.wantErr)
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			require.Equal(t, tt.want, names)
		})
	}
}

func TestSelectServers(t *testing.T) {
	got, err := selectServers("floor, subhub")
	require.NoError(t, err)
	require.Equal(t, []string{"floor", "subhub"}, got)
	_, err = selectServers("floor,nginx")
	require.ErrorIs(t, err, errUnknownServer)
	_, err = selectServers(" , ")
	require.ErrorIs(t, err, errUnknownServer)
}
