package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riptidechaos/riptide/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := realMain(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckLostHistoryIsInvalid(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../testdata/histories/lost-bad.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), b, 0o644))
	code, out, _ := runCLI("check", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "INVALID")
	assert.Contains(t, out, `value "1-1" sent by process 1`)
	assert.FileExists(t, filepath.Join(dir, "results.json"))
	assert.FileExists(t, filepath.Join(dir, "report.html"))
}

func TestCheckValidHistory(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../testdata/histories/lost-ok.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), b, 0o644))
	code, out, _ := runCLI("check", dir)
	assert.Equal(t, 0, code, out)
}

func TestRunRejectsBadScenarioBeforeLaunching(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: x\nduration: 10s\ncluster:\n  system: kafka\nworkload: {kind: queue}\n"), 0o644))
	out := filepath.Join(t.TempDir(), "run")
	code, _, errOut := runCLI("run", path, "--out", out)
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, path+":4:11")
	assert.Contains(t, errOut, "cluster.system")
	assert.NoDirExists(t, out, "nothing is started for an invalid scenario")
}

func TestUsageErrors(t *testing.T) {
	code, _, errOut := runCLI("frobnicate")
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "unknown command")
	code, _, _ = runCLI("run")
	assert.Equal(t, 3, code)
}

// TestRealClusterSIGINT builds riptide, starts a real run, sends SIGINT in
// the main phase and requires what the walking skeleton promises: exit
// within 5 s with status 3, no nats-server left, the history on disk.
func TestRealClusterSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real cluster; skipped with -short")
	}
	bin := testenv.Riptide(t)

	dir := filepath.Join(t.TempDir(), "run")
	var out testenv.LockedBuffer
	cmd := exec.Command(bin, "run", "../../testdata/scenarios/nats-short.yaml", "--out", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := os.Stat(filepath.Join(dir, "history.jsonl"))
		if err == nil && st.Size() > 20_000 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the main phase never started:\n%s", out.String())
		time.Sleep(50 * time.Millisecond)
	}
	pids := pidsIn(t, dir)
	require.Len(t, pids, 3)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))

	select {
	case err := <-exited:
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "exit: %v\n%s", err, out.String())
		assert.Equal(t, 3, exit.ExitCode())
	case <-time.After(5 * time.Second):
		t.Fatalf("riptide still running 5 s after SIGINT:\n%s", out.String())
	}
	for _, pid := range pids {
		assert.Error(t, syscall.Kill(pid, 0), "nats-server %d survived", pid)
	}
	assert.FileExists(t, filepath.Join(dir, "history.jsonl"))
	assert.FileExists(t, filepath.Join(dir, "results.json"))
	assert.Contains(t, out.String(), "interrupted")
}

func pidsIn(t *testing.T, dir string) []int {
	files, _ := filepath.Glob(filepath.Join(dir, "nodes", "*", "pid"))
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	return pids
}
