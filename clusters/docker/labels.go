package docker

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Labels on every container, network and volume riptide creates. They name
// the run and the harness process that owns it, so that a sweep can tell a
// live run (leave it alone) from the leftovers of a harness that died.
const (
	// LabelRun is the run's id; every resource of one run carries the same.
	LabelRun = "riptide.run"
	// LabelDir is the run directory on the harness's machine.
	LabelDir = "riptide.dir"
	// LabelPID and LabelPIDStart identify the owning harness process; the
	// start time (clock ticks since boot, from /proc) tells a reused pid
	// from the owner.
	LabelPID      = "riptide.pid"
	LabelPIDStart = "riptide.pid-start"
	// LabelBoot is the kernel's boot id: after a reboot no owner is alive.
	LabelBoot = "riptide.boot"
	// LabelHost is the harness's host name; a sweep judges only its own
	// host's runs, since it cannot see another machine's processes.
	LabelHost = "riptide.host"
	// LabelLog is where the container's output is copied before removal,
	// by the run's teardown or by a sweep.
	LabelLog = "riptide.log"
)

// owner identifies a harness process.
type owner struct {
	pid   int
	start string // "" where /proc is not available
	boot  string
	host  string
}

// self is the running harness.
func self() owner {
	host, _ := os.Hostname()
	pid := os.Getpid()
	return owner{pid: pid, start: procStart(pid), boot: bootID(), host: host}
}

func (o owner) labels() map[string]string {
	return map[string]string{
		LabelPID:      strconv.Itoa(o.pid),
		LabelPIDStart: o.start,
		LabelBoot:     o.boot,
		LabelHost:     o.host,
	}
}

func ownerOf(labels map[string]string) owner {
	pid, _ := strconv.Atoi(labels[LabelPID])
	return owner{pid: pid, start: labels[LabelPIDStart], boot: labels[LabelBoot], host: labels[LabelHost]}
}

// ownerState is what a sweep knows of a resource's owner.
type ownerState int

const (
	ownerAlive ownerState = iota
	ownerGone
	// ownerElsewhere: the owner runs on another host (a shared remote
	// engine), where this harness cannot see whether it lives.
	ownerElsewhere
)

func (s ownerState) String() string {
	switch s {
	case ownerAlive:
		return "alive"
	case ownerGone:
		return "gone"
	default:
		return "on another host"
	}
}

// state says whether the harness o is still running, as seen from me.
func (o owner) state(me owner) ownerState {
	if o.host != me.host {
		return ownerElsewhere
	}
	if o.pid <= 0 {
		return ownerGone // unlabelled or garbled: nobody can own it
	}
	if o.boot != "" && me.boot != "" && o.boot != me.boot {
		return ownerGone // the machine rebooted since
	}
	if o.pid == me.pid && o.start == me.start {
		return ownerAlive
	}
	if err := syscall.Kill(o.pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return ownerGone
	}
	if o.start != "" && procStart(o.pid) != o.start {
		return ownerGone // the pid was reused by another process
	}
	return ownerAlive
}

// procStart is the start time of process pid in clock ticks since boot
// (field 22 of /proc/PID/stat), or "" where it cannot be read.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
