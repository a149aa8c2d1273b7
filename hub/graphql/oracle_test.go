package graphql

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// nodeDir is the e2e/node directory holding graphql-js.
var nodeDir = filepath.Join("..", "..", "e2e", "node")

// ensureNodeModules runs npm ci in e2e/node if graphql-js is missing, under
// an flock on e2e/node/.npm.lock shared with the other packages' tests. It
// fails (never skips) when node or npm is missing.
func ensureNodeModules(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("node")
	require.NoError(t, err, "node is required for the graphql-js differential tests")
	marker := filepath.Join(nodeDir, "node_modules", "graphql", "package.json")
	if _, err := os.Stat(marker); err == nil {
		return
	}
	lock, err := os.OpenFile(filepath.Join(nodeDir, ".npm.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	if _, err := os.Stat(marker); err == nil {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeDir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci: %s", out)
}

// oracleCase is one line sent to e2e/node/oracle/execute.js.
type oracleCase struct {
	ID            string          `json:"id"`
	SDL           string          `json:"sdl"`
	Query         string          `json:"query"`
	OperationName string          `json:"operationName,omitempty"`
	Variables     json.RawMessage `json:"variables,omitempty"`
	Event         json.RawMessage `json:"event,omitempty"`
}

type oracleError struct {
	Message   string     `json:"message"`
	Locations []Location `json:"locations"`
	Path      []any      `json:"path"`
}

type oracleResult struct {
	ID      string          `json:"id"`
	Request bool            `json:"request"`
	Data    json.RawMessage `json:"data"`
	Errors  []oracleError   `json:"errors"`
}

// runOracle executes all cases in one node process.
func runOracle(t *testing.T, cases []oracleCase) map[string]oracleResult {
	t.Helper()
	ensureNodeModules(t)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		require.NoError(t, enc.Encode(c))
	}
	cmd := exec.Command("node", filepath.Join("oracle", "execute.js"))
	cmd.Dir = nodeDir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "oracle: %s", stderr.String())
	results := map[string]oracleResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r oracleResult
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		results[r.ID] = r
	}
	require.NoError(t, sc.Err())
	require.Len(t, results, len(cases))
	return results
}

// canonicalJSON re-encodes JSON keeping key order, with numbers in
// JavaScript form, so that two encoders' outputs compare as strings.
func canonicalJSON(t *testing.T, raw []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []byte
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				out = append(out, '{')
				for i := 0; dec.More(); i++ {
					if i > 0 {
						out = append(out, ',')
					}
					k, err := dec.Token()
					if err != nil {
						return err
					}
					out = strconv.AppendQuote(out, k.(string))
					out = append(out, ':')
					if err := walk(); err != nil {
						return err
					}
				}
				_, err = dec.Token()
				out = append(out, '}')
				return err
			case '[':
				out = append(out, '[')
				for i := 0; dec.More(); i++ {
					if i > 0 {
						out = append(out, ',')
					}
					if err := walk(); err != nil {
						return err
					}
				}
				_, err = dec.Token()
				out = append(out, ']')
				return err
			}
		case json.Number:
			f, err := v.Float64()
			if err != nil {
				return err
			}
			out = appendJSNumber(out, f)
		case string:
			out = strconv.AppendQuote(out, v)
		case bool:
			out = strconv.AppendBool(out, v)
		case nil:
			out = append(out, "null"...)
		}
		return nil
	}
	require.NoError(t, walk(), "canonical %s", raw)
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF)
	return string(out)
}

func normalizePath(p []any) []any {
	out := make([]any, len(p))
	for i, e := range p {
		if f, ok := e.(float64); ok {
			out[i] = int(f)
		} else {
			out[i] = e
		}
	}
	return out
}

// compareWithOracle checks one compiled case against graphql-js's result.
func compareWithOracle(t *testing.T, c corpusCase, r oracleResult, schemas map[string]*Schema) {
	t.Helper()
	s := schemas[c.sdl]
	var vars []byte
	if c.vars != "" {
		vars = []byte(c.vars)
	}
	op, errs := s.Compile(Request{Query: c.query, OperationName: c.op, Variables: vars})
	if c.requestError {
		require.NotNil(t, errs, "subhub accepted an operation the case marks invalid")
		require.True(t, r.Request, "graphql-js accepted the operation: %+v", r)
		if c.validation {
			return
		}
		got := make([]oracleError, len(errs))
		for i, e := range errs {
			got[i] = oracleError{Message: e.Message, Locations: e.Locations, Path: e.Path}
		}
		require.Equal(t, errorKeys(r.Errors), errorKeys(got))
		return
	}
	require.Nil(t, errs, "compile: %v", errs)
	require.False(t, r.Request, "graphql-js rejected the operation: %+v", r.Errors)
	event := parseEvent(t, c.event)
	out := result(t, op.Plan, event)
	require.True(t, json.Valid(out), "invalid JSON: %s", out)
	var got struct {
		Data   json.RawMessage `json:"data"`
		Errors []oracleError   `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(out, &got))
	require.Equal(t, canonicalJSON(t, r.Data), canonicalJSON(t, got.Data), "data of %s", out)
	// Same errors (message, locations, path) in the same order.
	require.Equal(t, errorKeys(r.Errors), errorKeys(got.Errors), "errors of %s", out)
}

// errorKeys renders errors as JSON strings, with JSON numbers in paths
// normalised to ints, for comparison.
func errorKeys(errs []oracleError) []string {
	keys := make([]string, 0, len(errs))
	for _, e := range errs {
		e.Path = normalizePath(e.Path)
		b, _ := json.Marshal(e)
		keys = append(keys, string(b))
	}
	return keys
}

func TestOracleDifferential(t *testing.T) {
	cases := corpus()
	require.GreaterOrEqual(t, len(cases), 60)
	schemas := map[string]*Schema{}
	var ocs []oracleCase
	seen := map[string]bool{}
	for _, c := range cases {
		require.False(t, seen[c.name], "duplicate case %s", c.name)
		seen[c.name] = true
		if schemas[c.sdl] == nil {
			s, err := ParseSchema("corpus.graphql", c.sdl)
			require.NoError(t, err)
			schemas[c.sdl] = s
		}
		oc := oracleCase{ID: c.name, SDL: c.sdl, Query: c.query, OperationName: c.op}
		if c.vars != "" {
			oc.Variables = json.RawMessage(c.vars)
		}
		if c.event != "" {
			oc.Event = json.RawMessage(c.event)
		}
		ocs = append(ocs, oc)
	}
	results := runOracle(t, ocs)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			compareWithOracle(t, c, results[c.name], schemas)
		})
	}
}
