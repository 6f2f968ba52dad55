package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/internal/testenv"
	"github.com/riptidechaos/riptide/reports"
)

// The self-chaos test runs riptide and kills it, over and over, at a
// random moment with a random signal, then looks from outside for anything
// the run left: processes (stopped ones too), listening ports, files in
// the TMPDIR the harness was given, faults its heal journal shows as never
// undone, containers, networks and volumes; and it checks that the history
// is still one riptide check reads. RIPTIDE_CHAOS_KILLS sets the number of
// kills (default 6, for make test); RIPTIDE_CHAOS_SEED replays the moments
// and signals of an earlier run. The long run:
//
//	RIPTIDE_CHAOS_KILLS=200 go test -run '^TestSelfChaos$' ./internal/run/ -timeout 3h -v
const (
	chaosKillsEnv       = "RIPTIDE_CHAOS_KILLS"
	chaosDockerKillsEnv = "RIPTIDE_CHAOS_DOCKER_KILLS"
	chaosSeedEnv        = "RIPTIDE_CHAOS_SEED"
	chaosScenarioFile   = "../../testdata/scenarios/nats-chaos.yaml"
)

// A chaosAction is what is done to the harness at the chosen moment.
type chaosAction struct {
	name    string
	signals []syscall.Signal // sent in order, a random moment apart
	// closeStdout closes the reading end of the harness's stdout, as a
	// `riptide run ... | head` whose head has exited.
	closeStdout bool
	// graceful: the harness must undo everything itself; riptide clean
	// must find nothing to do.
	graceful bool
}

var chaosActions = []chaosAction{
	{name: "SIGKILL", signals: []syscall.Signal{syscall.SIGKILL}},
	{name: "SIGINT", signals: []syscall.Signal{syscall.SIGINT}, graceful: true},
	{name: "SIGTERM", signals: []syscall.Signal{syscall.SIGTERM}, graceful: true},
	{name: "SIGHUP", signals: []syscall.Signal{syscall.SIGHUP}, graceful: true},
	// Go's default: dump the goroutines and exit at once, no teardown.
	{name: "SIGQUIT", signals: []syscall.Signal{syscall.SIGQUIT}},
	// The second Ctrl-C exits at once, by design.
	{name: "SIGINT twice", signals: []syscall.Signal{syscall.SIGINT, syscall.SIGINT}},
	{name: "stdout closed", closeStdout: true, graceful: true},
}

// chaosPlatform is what differs between the platforms' self-chaos runs.
type chaosPlatform struct {
	name string
	args []string // extra arguments of riptide run
	// The kill moments are drawn from [0, maxWait), a third of them from
	// [0, launch) and a third from [late, maxWait): launch, the drain, the
	// check and the report are short phases that a uniform draw would
	// seldom hit.
	maxWait, launch, late time.Duration
	eng                   *docker.Engine
}

// chaosOutcome is one kill and what it left.
type chaosOutcome struct {
	action, phase string
	after         time.Duration
	exit          string
	leaks         []string // things left behind
	problems      []string // other broken promises: a lie, a check that failed
	torn          bool
}

// TestSelfChaos kills riptide runs on the process platform.
func TestSelfChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills real clusters; skipped with -short")
	}
	p := chaosPlatform{name: "process", maxWait: 10 * time.Second, launch: 1500 * time.Millisecond, late: 6 * time.Second}
	// Build the pinned nats-server first, so that no kill lands in a build.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	_, err := nats.Binary(ctx, nats.DefaultVersion, io.Discard)
	require.NoError(t, err)
	selfChaos(t, p, chaosCount(t, chaosKillsEnv, 6))
}

// TestSelfChaosDocker kills riptide runs on the docker platform, where
// what the harness leaves outlives it (containers, the network) until its
// teardown, riptide clean or the next run's sweep.
func TestSelfChaosDocker(t *testing.T) {
	eng, opts := dockerForTest(t)
	p := chaosPlatform{name: "docker", maxWait: 14 * time.Second, launch: 3 * time.Second, late: 8 * time.Second, eng: eng,
		args: []string{"--platform", "docker", "--image", opts.Image, "--toxiproxy-image", opts.ToxiproxyImage}}
	selfChaos(t, p, chaosCount(t, chaosDockerKillsEnv, 2))
}

func chaosCount(t *testing.T, env string, def int) int {
	t.Helper()
	s := os.Getenv(env)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "%s", env)
	return n
}

func selfChaos(t *testing.T, p chaosPlatform, n int) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(chaosSeedEnv); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "%s", chaosSeedEnv)
	}
	t.Logf("%s=%d replays these moments and signals", chaosSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5e1fc4a05))
	bin := testenv.Riptide(t)
	base := t.TempDir()
	began := time.Now()

	var outs []chaosOutcome
	for i := range n {
		a := chaosActions[rng.IntN(len(chaosActions))]
		from, to := time.Duration(0), p.maxWait
		switch rng.IntN(3) {
		case 0:
			to = p.launch
		case 1:
			from = p.late
		}
		after := from + time.Duration(rng.Int64N(int64(to-from)))
		gap := time.Duration(rng.Int64N(int64(500 * time.Millisecond)))
		o := chaosOnce(t, p, bin, filepath.Join(base, fmt.Sprintf("%03d", i)), a, after, gap)
		t.Logf("kill %d/%d: %s after %s, in %s: %s; %d leaks, %d problems", i+1, n, o.action,
			o.after.Round(time.Millisecond), o.phase, o.exit, len(o.leaks), len(o.problems))
		for _, l := range o.leaks {
			t.Logf("    leak: %s", l)
		}
		for _, pr := range o.problems {
			t.Logf("    problem: %s", pr)
		}
		outs = append(outs, o)
	}

	var leaks, problems, torn int
	phases, actions := map[string]int{}, map[string]int{}
	for _, o := range outs {
		leaks += len(o.leaks)
		problems += len(o.problems)
		if o.torn {
			torn++
		}
		phases[o.phase]++
		actions[o.action]++
	}
	t.Logf("self-chaos on %s: %d kills, %d leaks, %d other problems, %d torn histories, took %s (seed %d)",
		p.name, n, leaks, problems, torn, time.Since(began).Round(time.Second), seed)
	t.Logf("by action: %s", counts(actions))
	t.Logf("by phase: %s", counts(phases))
	if leaks+problems > 0 {
		t.Errorf("self-chaos: %d leaks and %d problems over %d kills (see the log above)", leaks, problems, n)
	}
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// chaosOnce starts one run in dir, does a to it after the given time and
// looks for what is left.
func chaosOnce(t *testing.T, p chaosPlatform, bin, dir string, a chaosAction, after, gap time.Duration) chaosOutcome {
	o := chaosOutcome{action: a.name, after: after}
	tmp := dir + "-tmp" // the harness's TMPDIR, outside its run directory
	require.NoError(t, os.MkdirAll(tmp, 0o755))

	// --metrics: its listener is one more socket that must be on loopback
	// and must not outlive the harness.
	cmd := exec.Command(bin, append([]string{"run", chaosScenarioFile, "--out", dir, "--metrics", "127.0.0.1:0"}, p.args...)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdoutR, stdoutW, err := os.Pipe()
	require.NoError(t, err)
	var out testenv.LockedBuffer
	cmd.Stdout, cmd.Stderr = stdoutW, &out
	require.NoError(t, cmd.Start())
	stdoutW.Close()
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&out, stdoutR); close(copied) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { // whatever happens below, no harness outlives the test
		_ = cmd.Process.Kill()
		stdoutR.Close()
	}()

	var (
		done     bool
		ports    []int
		exitErr  error
		signaled bool
	)
	select {
	case exitErr = <-exited:
		done = true
		o.phase, o.action = "finished", "none (the run ended first)"
	case <-time.After(after):
		o.phase = phaseOf(out.String(), dir)
		pids := runPIDs(cmd.Process.Pid, dir)
		for _, l := range notLoopback(pids) {
			o.leaks = append(o.leaks, "not on loopback: "+l)
		}
		ports = portsOf(pids)
		if p.eng != nil {
			o.leaks = append(o.leaks, containerPrivileges(p.eng, dir)...)
		}
		if a.closeStdout {
			stdoutR.Close()
		}
		for i, sig := range a.signals {
			if i > 0 {
				time.Sleep(gap)
			}
			_ = cmd.Process.Signal(sig)
		}
	}
	if !done {
		bound := 15 * time.Second
		if a.graceful {
			// Teardown, and the check and report of a short history.
			bound = time.Minute
		}
		select {
		case exitErr = <-exited:
		case <-time.After(bound):
			o.leaks = append(o.leaks, fmt.Sprintf("the harness still ran %s after %s", bound, a.name))
			_ = cmd.Process.Kill()
			exitErr = <-exited
		}
	}
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		o.problems = append(o.problems, "the harness's stdout stayed open after it exited")
	}
	o.exit = "exit 0"
	var ee *exec.ExitError
	if errors.As(exitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			signaled = true
			o.exit = "died of signal: " + ws.Signal().String()
		} else {
			o.exit = fmt.Sprintf("exit %d", ee.ExitCode())
		}
	}
	graceful := done || a.graceful
	if graceful && signaled {
		o.problems = append(o.problems, fmt.Sprintf("%s killed the harness (%s): no teardown", a.name, o.exit))
	}
	ports = append(ports, confPorts(dir)...)

	// A harness that stopped by itself must have left nothing, not even
	// for riptide clean.
	if graceful {
		o.leaks = append(o.leaks, leftBehind(t, p, dir, tmp, ports)...)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clean, err := exec.CommandContext(cctx, bin, "clean", dir).CombinedOutput()
	switch {
	case err != nil:
		o.problems = append(o.problems, fmt.Sprintf("riptide clean: %v\n%s", err, clean))
	case graceful && !bytes.Contains(clean, []byte("0 needed cleaning")):
		o.leaks = append(o.leaks, "left for riptide clean: "+strings.TrimSpace(string(clean)))
	}
	if !graceful {
		o.leaks = append(o.leaks, leftBehind(t, p, dir, tmp, ports)...)
	}
	o.torn, o.problems = checkHistory(bin, dir, o.problems)
	if len(o.leaks)+len(o.problems) == 0 {
		// Two hundred runs' stores add up; a run with a finding stays for
		// a look until the test ends.
		_ = os.RemoveAll(dir)
		_ = os.RemoveAll(tmp)
	}
	return o
}

// phaseOf names the phase a run is in, from its output so far.
func phaseOf(out, dir string) string {
	phase := "start"
	for _, m := range []struct{ marker, phase string }{
		{"riptide: launching", "launch"},
		{"riptide: cluster healthy", "setup"},
		{"riptide: main phase:", "main"},
		{"riptide: heal ", "heal"},
		{"riptide: drain ", "drain"},
		{"riptide: check ", "check"},
		{"riptide: report ", "report"},
	} {
		if strings.Contains(out, m.marker) {
			phase = m.phase
		}
	}
	if phase == "main" {
		if open := journalLeft(dir); len(open) > 1 { // open faults and no end line
			phase = "main, faults on"
		}
	}
	return phase
}

// leftBehind looks for everything a run can leave.
func leftBehind(t *testing.T, p chaosPlatform, dir, tmp string, ports []int) []string {
	t.Helper()
	var left []string
	for _, pr := range procsGone(dir, 10*time.Second) {
		left = append(left, "process: "+pr.String())
	}
	for _, s := range stillListening(ports, dir, 10*time.Second) {
		left = append(left, "port: "+s)
	}
	for _, f := range dirEntries(tmp) {
		left = append(left, "temporary file outside the run directory: "+filepath.Join(tmp, f))
	}
	for _, j := range journalLeft(dir) {
		left = append(left, "journal: "+j)
	}
	if p.eng != nil {
		left = append(left, dockerLeft(t, p.eng, dir)...)
	}
	return left
}

// checkHistory runs riptide check on the run's history when there is one:
// whatever killed the harness, the history is read (a torn last line is
// tolerated and reported) and judged. It reports whether the history was
// torn.
func checkHistory(bin, dir string, problems []string) (bool, []string) {
	path := filepath.Join(dir, "history.jsonl")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, problems // killed before the run directory was made
	}
	_, info, derr := history.Decode(bytes.NewReader(b))
	if derr != nil {
		return false, append(problems, fmt.Sprintf("history.jsonl unreadable: %v", derr))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return info.Torn, append(problems, fmt.Sprintf("riptide check: %v", err))
	}
	r, rerr := reports.ReadJSON(dir)
	switch {
	case strings.Contains(stderr.String(), "riptide check:") || rerr != nil:
		problems = append(problems, fmt.Sprintf("riptide check failed (exit %d): %s %v", code, stderr.String(), rerr))
	case code == ExitHarness && !r.Interrupted:
		problems = append(problems, "riptide check exited 3 for a run that was not interrupted")
	case r.HistoryTorn != info.Torn:
		problems = append(problems, fmt.Sprintf("riptide check says torn=%v, the file says %v", r.HistoryTorn, info.Torn))
	case string(r.Verdict) == "valid" && !drained(mustOps(b)):
		problems = append(problems, "riptide check called a history without a final drain valid")
	}
	return info.Torn, problems
}

func mustOps(b []byte) []history.Op {
	h, _, _ := history.Decode(bytes.NewReader(b))
	return h
}

// dockerLeft lists the containers, networks and volumes of dir's runs.
func dockerLeft(t *testing.T, eng *docker.Engine, dir string) []string {
	t.Helper()
	cs, ns := runLeftovers(t, eng, dir)
	var left []string
	for _, c := range cs {
		left = append(left, "container "+c)
	}
	for _, n := range ns {
		left = append(left, "network "+n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vs, err := eng.Client().VolumeList(ctx, client.VolumeListOptions{Filters: dirFilter(dir)})
	require.NoError(t, err)
	for _, v := range vs.Items {
		left = append(left, "volume "+v.Name)
	}
	return left
}

// dirFilter selects the resources of the runs of dir.
func dirFilter(dir string) client.Filters {
	return client.Filters{}.Add("label", docker.LabelDir+"="+dir)
}

// containerPrivileges inspects the run's containers: none privileged,
// none with added capabilities or the host's namespaces, every published
// port on loopback. No fault needs more on this engine (pause is the cgroup
// freezer, kill and stop are engine calls, disk faults act on the bind
// mount from the host), and nothing mounted from outside the run directory.
func containerPrivileges(eng *docker.Engine, dir string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := eng.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: dirFilter(dir)})
	if err != nil {
		return []string{fmt.Sprintf("docker: list containers: %v", err)}
	}
	var bad []string
	for _, c := range cs.Items {
		res, err := eng.Client().ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			continue // removed meanwhile
		}
		in, name := res.Container, strings.Join(c.Names, ",")
		hc := in.HostConfig
		if hc == nil {
			continue
		}
		if hc.Privileged {
			bad = append(bad, "privileged container "+name)
		}
		if len(hc.CapAdd) > 0 {
			bad = append(bad, fmt.Sprintf("container %s adds capabilities %v", name, hc.CapAdd))
		}
		for _, mode := range []string{string(hc.NetworkMode), string(hc.PidMode), string(hc.IpcMode), string(hc.UsernsMode)} {
			if mode == "host" {
				bad = append(bad, fmt.Sprintf("container %s shares a host namespace", name))
			}
		}
		for port, bs := range hc.PortBindings {
			for _, b := range bs {
				if !b.HostIP.IsValid() || !b.HostIP.IsLoopback() {
					bad = append(bad, fmt.Sprintf("container %s publishes %s on %q", name, port, b.HostIP))
				}
			}
		}
		if in.NetworkSettings != nil {
			for port, bs := range in.NetworkSettings.Ports {
				for _, b := range bs {
					if !b.HostIP.IsLoopback() {
						bad = append(bad, fmt.Sprintf("container %s has %s bound on %s", name, port, b.HostIP))
					}
				}
			}
		}
		for _, m := range in.Mounts {
			if m.Type == "bind" && !strings.HasPrefix(m.Source, dir+string(filepath.Separator)) {
				bad = append(bad, fmt.Sprintf("container %s mounts %s, outside the run directory", name, m.Source))
			}
		}
	}
	return bad
}
