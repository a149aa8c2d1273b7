package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// parseCPUModel returns the first "model name" of /proc/cpuinfo contents.
func parseCPUModel(cpuinfo []byte) string {
	for line := range bytes.Lines(cpuinfo) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return "unknown CPU"
}

// parseMemTotal returns MemTotal in KiB from /proc/meminfo contents.
func parseMemTotal(meminfo []byte) (int64, error) {
	for line := range bytes.Lines(meminfo) {
		rest, ok := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			break
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, fmt.Errorf("%w: no MemTotal line", errProcFormat)
}

// readMachine describes this host; unreadable parts stay zero or unknown.
func readMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Model: "unknown CPU", Kernel: "Linux", GoVer: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.Model = parseCPUModel(b)
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemKiB, _ = parseMemTotal(b)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// gitCommit returns the short commit of ref (HEAD when empty) in repo and,
// for the working tree (empty ref), whether tracked files differ from it.
func gitCommit(ctx context.Context, repo, ref string) (string, bool) {
	explicit := ref != ""
	if ref == "" {
		ref = "HEAD"
	}
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short", ref).Output()
	if err != nil {
		return "unknown", false
	}
	if ref != "HEAD" || explicit {
		return strings.TrimSpace(string(out)), false
	}
	st, err := exec.CommandContext(ctx, "git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(out)), err == nil && len(bytes.TrimSpace(st)) > 0
}

// exportRef writes the tree of git ref in repo to a new directory under dir
// and returns it: a clean source to build from while the working tree is
// being edited.
func exportRef(ctx context.Context, repo, ref, dir string) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	archive := exec.CommandContext(ctx, "git", "-C", repo, "archive", "--format=tar", ref)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var stderr bytes.Buffer
	archive.Stderr, untar.Stderr = &stderr, &stderr
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		_ = untar.Wait()
		return "", fmt.Errorf("e2e: git archive %s: %w: %s", ref, err, stderr.Bytes())
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("e2e: untar %s: %w: %s", ref, err, stderr.Bytes())
	}
	return src, nil
}

// readLoadAvg returns the 1, 5 and 15 minute load averages, "unknown" when
// /proc/loadavg is unreadable.
func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return parseLoadAvg(b)
}

// parseLoadAvg returns the first three fields of /proc/loadavg contents.
func parseLoadAvg(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
