package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    uint64
		wantErr error
	}{
		{
			name: "plain command",
			stat: "4242 (floor) S 1 4242 4242 0 -1 4194560 2469 0 0 0 1234 567 0 0 20 0 9 0 1234567 1262702592 5213 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n",
			want: 1234 + 567,
		},
		{
			name: "command with spaces and parentheses",
			stat: "77 (we (ird) name) R 1 77 77 0 -1 4194560 10 0 0 0 3 4 0 0 20 0 1 0 99 1000 10 18446744073709551615\n",
			want: 7,
		},
		{
			name:    "no command",
			stat:    "77 R 1 77",
			wantErr: errProcFormat,
		},
		{
			name:    "truncated",
			stat:    "77 (x) R 1 77 77 0 -1 4194560 10 0 0 0",
			wantErr: errProcFormat,
		},
		{
			name:    "not a number",
			stat:    "77 (x) R 1 77 77 0 -1 4194560 10 0 0 0 three 4 0 0",
			wantErr: errProcFormat,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr error
	}{
		{
			name:   "status file",
			status: "Name:\tfloor\nVmPeak:\t 1262704 kB\nVmHWM:\t   21000 kB\nVmRSS:\t   20852 kB\nRssAnon:\t   12000 kB\n",
			want:   20852,
		},
		{
			name:    "kernel thread has none",
			status:  "Name:\tkthreadd\nState:\tS (sleeping)\n",
			wantErr: errProcFormat,
		},
		{
			name:    "unexpected unit",
			status:  "VmRSS:\t 20 MB\n",
			wantErr: errProcFormat,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tt.status))
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestReadSampleOfThisProcess(t *testing.T) {
	s, err := readSample(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, s.RSS)
	require.GreaterOrEqual(t, s.CPU, 0.0)
	require.WithinDuration(t, time.Now(), s.At, time.Second)

	_, err = readSample(1 << 30) // no such pid
	require.Error(t, err)
}

func TestSamplerCollectsUntilStopped(t *testing.T) {
	smp := startSampler(os.Getpid(), time.Millisecond)
	// Burn CPU (no sleeping) across several sampling intervals.
	x := 0
	for start := time.Now(); time.Since(start) < 30*time.Millisecond; {
		x++
	}
	got := smp.Stop()
	require.Positive(t, x)
	require.GreaterOrEqual(t, len(got), 2)
	for i := 1; i < len(got); i++ {
		require.False(t, got[i].At.Before(got[i-1].At), "samples in time order")
		require.GreaterOrEqual(t, got[i].CPU, got[i-1].CPU, "CPU time never decreases")
	}
}

func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)
	tl := timeline{
		{At: t0, CPU: 1, RSS: 100},
		{At: t0.Add(time.Second), CPU: 2, RSS: 200},
		{At: t0.Add(3 * time.Second), CPU: 6, RSS: 300},
	}
	tests := []struct {
		name  string
		at    time.Time
		cpu   float64
		cpuOK bool
		rss   int64
		rssOK bool
	}{
		{name: "before", at: t0.Add(-time.Millisecond), cpuOK: false, rssOK: false},
		{name: "first sample", at: t0, cpu: 1, cpuOK: true, rss: 100, rssOK: true},
		{name: "between", at: t0.Add(500 * time.Millisecond), cpu: 1.5, cpuOK: true, rss: 100, rssOK: true},
		{name: "second segment", at: t0.Add(2 * time.Second), cpu: 4, cpuOK: true, rss: 200, rssOK: true},
		{name: "last sample", at: t0.Add(3 * time.Second), cpu: 6, cpuOK: true, rss: 300, rssOK: true},
		{name: "after", at: t0.Add(4 * time.Second), cpuOK: false, rss: 300, rssOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpu, ok := tl.cpuAt(tt.at)
			require.Equal(t, tt.cpuOK, ok)
			require.InDelta(t, tt.cpu, cpu, 1e-9)
			rss, ok := tl.rssAt(tt.at)
			require.Equal(t, tt.rssOK, ok)
			require.Equal(t, tt.rss, rss)
		})
	}
	_, ok := timeline(nil).cpuAt(t0)
	require.False(t, ok)
}
