package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. The
// kernel fixes it at 100 for user space on every architecture Go supports
// (getconf CLK_TCK).
const clockTicks = 100

// sample is one reading of a process's resource use.
type sample struct {
	At  time.Time
	CPU float64 // utime+stime in seconds
	RSS int64   // VmRSS in KiB
}

// parseStatCPU returns utime+stime, in clock ticks, from the contents of
// /proc/PID/stat. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat has no ')'", errProcFormat)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields after the command", errProcFormat, len(f))
	}
	utime, err := strconv.ParseUint(string(f[11]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: utime: %v", errProcFormat, err)
	}
	stime, err := strconv.ParseUint(string(f[12]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: stime: %v", errProcFormat, err)
	}
	return utime + stime, nil
}

// parseVmRSS returns VmRSS in KiB from the contents of /proc/PID/status.
func parseVmRSS(b []byte) (int64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("%w: VmRSS line %q", errProcFormat, bytes.TrimSpace(line))
		}
		v, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: VmRSS: %v", errProcFormat, err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS line", errProcFormat)
}

// readSample reads the CPU time and RSS of process pid now.
func readSample(pid int) (sample, error) {
	at := time.Now()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return sample{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return sample{}, err
	}
	ticks, err := parseStatCPU(stat)
	if err != nil {
		return sample{}, err
	}
	rss, err := parseVmRSS(status)
	if err != nil {
		return sample{}, err
	}
	return sample{At: at, CPU: float64(ticks) / clockTicks, RSS: rss}, nil
}

// sampler reads a process's samples periodically on its own goroutine.
type sampler struct {
	stop chan struct{}
	done chan []sample
}

// startSampler samples pid every interval until Stop. Failed reads (the
// process exiting) are skipped.
func startSampler(pid int, interval time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan []sample, 1)}
	go func() {
		var out []sample
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if smp, err := readSample(pid); err == nil {
				out = append(out, smp)
			}
			select {
			case <-s.stop:
				s.done <- out
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the samples in time order. Call it once.
func (s *sampler) Stop() timeline {
	close(s.stop)
	return <-s.done
}

// timeline is a process's samples in time order.
type timeline []sample

// cpuAt returns the CPU seconds at t, interpolated linearly between the
// samples around it; false when t is outside the timeline.
func (tl timeline) cpuAt(t time.Time) (float64, bool) {
	if len(tl) == 0 || t.Before(tl[0].At) || t.After(tl[len(tl)-1].At) {
		return 0, false
	}
	for i := 1; i < len(tl); i++ {
		a, b := tl[i-1], tl[i]
		if t.After(b.At) {
			continue
		}
		span := b.At.Sub(a.At)
		if span <= 0 {
			return b.CPU, true
		}
		f := float64(t.Sub(a.At)) / float64(span)
		return a.CPU + f*(b.CPU-a.CPU), true
	}
	return tl[0].CPU, true
}

// rssAt returns the RSS of the last sample at or before t; false when t is
// before the first sample.
func (tl timeline) rssAt(t time.Time) (int64, bool) {
	found, v := false, int64(0)
	for _, s := range tl {
		if s.At.After(t) {
			break
		}
		found, v = true, s.RSS
	}
	return v, found
}
