package main

import (
	"testing"

	"github.com/subhub/subhub/benchmarks/internal/benchsrvtest"
)

func TestRun(t *testing.T) { benchsrvtest.TestRun(t, run) }
