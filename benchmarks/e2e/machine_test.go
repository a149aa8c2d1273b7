package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseCPUModel(t *testing.T) {
	tests := []struct {
		name    string
		cpuinfo string
		want    string
	}{
		{
			name:    "x86",
			cpuinfo: "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n",
			want:    "AMD EPYC 7B13",
		},
		{
			name:    "no model name",
			cpuinfo: "processor\t: 0\nBogoMIPS\t: 50.00\n",
			want:    "unknown CPU",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, parseCPUModel([]byte(tt.cpuinfo)))
		})
	}
}

func TestParseMemTotal(t *testing.T) {
	got, err := parseMemTotal([]byte("MemTotal:       24683664 kB\nMemFree:        1000 kB\n"))
	require.NoError(t, err)
	require.Equal(t, int64(24683664), got)
	_, err = parseMemTotal([]byte("MemFree: 1 kB\n"))
	require.ErrorIs(t, err, errProcFormat)
}

func TestParseLoadAvg(t *testing.T) {
	require.Equal(t, "8.88 6.14 3.28", parseLoadAvg([]byte("8.88 6.14 3.28 5/812 123456\n")))
	require.Equal(t, "unknown", parseLoadAvg([]byte("")))
}

func TestReadMachine(t *testing.T) {
	m := readMachine()
	require.Positive(t, m.CPUs)
	require.Positive(t, m.MemKiB)
	require.NotEmpty(t, m.Model)
	require.Contains(t, m.GoVer, "go")
}

func TestGitCommit(t *testing.T) {
	commit, _ := gitCommit(context.Background(), "../..", "")
	require.Regexp(t, `^[0-9a-f]{7,}$`, commit)
	commit, dirty := gitCommit(context.Background(), "../..", "HEAD")
	require.Regexp(t, `^[0-9a-f]{7,}$`, commit)
	require.False(t, dirty, "an explicit ref is built from a clean export")
	commit, _ = gitCommit(context.Background(), "../..", "no-such-ref-xyz")
	require.Equal(t, "unknown", commit)
}
