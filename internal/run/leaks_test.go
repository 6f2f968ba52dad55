package run

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/clusters/process"
	"github.com/riptidechaos/riptide/injectors"
)

// What a run can leave behind, looked for from outside the harness: the
// tests that kill harnesses (selfchaos_test.go) and the tests of the other
// exit paths share these.

// leftProc is a live process that belongs to a run directory.
type leftProc struct {
	PID     int
	State   byte // R, S, D, T (stopped: a paused node), ...
	Cmdline string
}

func (p leftProc) String() string {
	return fmt.Sprintf("pid %d (state %c): %s", p.PID, p.State, p.Cmdline)
}

// procsOf lists the live processes whose command line names dir: a node
// (its configuration is in the run directory) or a harness (--out dir).
// Zombies are dead and hold nothing but their pid; they do not count.
func procsOf(dir string) []leftProc {
	ents, _ := os.ReadDir("/proc")
	var out []leftProc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(b, []byte(dir)) {
			continue
		}
		st, ok := process.State(pid)
		if !ok || st == 'Z' || st == 'X' {
			continue
		}
		out = append(out, leftProc{pid, st, strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))})
	}
	return out
}

// procsGone waits, at most wait, for the processes of dir to be gone (a
// killed process takes a moment to die) and returns those still alive.
func procsGone(dir string, wait time.Duration) []leftProc {
	deadline := time.Now().Add(wait)
	for {
		left := procsOf(dir)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// socket is a listening TCP socket or a bound, unconnected UDP socket.
type socket struct {
	Proto string
	Addr  net.TCPAddr
	Inode string
}

func (s socket) String() string { return s.Proto + " " + s.Addr.String() }

// listeningSockets reads the kernel's socket tables (this network
// namespace): every TCP socket in LISTEN and every UDP socket bound and
// unconnected, by inode.
func listeningSockets() map[string]socket {
	out := map[string]socket{}
	for _, t := range []struct{ file, proto, state string }{
		{"/proc/net/tcp", "tcp", "0A"}, {"/proc/net/tcp6", "tcp6", "0A"},
		{"/proc/net/udp", "udp", "07"}, {"/proc/net/udp6", "udp6", "07"},
	} {
		f, err := os.Open(t.file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != t.state {
				continue
			}
			addr, ok := parseProcAddr(fields[1])
			if !ok || addr.Port == 0 {
				continue
			}
			out[fields[9]] = socket{Proto: t.proto, Addr: addr, Inode: fields[9]}
		}
		f.Close()
	}
	return out
}

// parseProcAddr reads /proc/net's HEXIP:HEXPORT, where the address is
// stored as 32-bit words in host (little-endian) order.
func parseProcAddr(s string) (net.TCPAddr, bool) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return net.TCPAddr{}, false
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return net.TCPAddr{}, false
	}
	for i := 0; i < len(raw); i += 4 {
		slices.Reverse(raw[i : i+4])
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return net.TCPAddr{}, false
	}
	return net.TCPAddr{IP: net.IP(raw), Port: int(port)}, true
}

// socketsOf returns the listening sockets that process pid holds.
func socketsOf(pid int, all map[string]socket) []socket {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	var out []socket
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		inode, ok := strings.CutPrefix(link, "socket:[")
		if !ok {
			continue
		}
		if s, ok := all[strings.TrimSuffix(inode, "]")]; ok {
			out = append(out, s)
		}
	}
	return out
}

// ownersOf lists the live processes holding the socket with this inode.
func ownersOf(inode string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if len(socketsOf(pid, map[string]socket{inode: {}})) > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// runPIDs is the harness (when pid > 0) and the nodes of dir that run now.
func runPIDs(harness int, dir string) []int {
	var pids []int
	if harness > 0 {
		pids = append(pids, harness)
	}
	for _, p := range procsOf(dir) {
		if p.PID != harness {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// heldSocket is a listening socket and a process that holds it.
type heldSocket struct {
	pid int
	socket
}

// listenersOf lists the listening sockets that pids hold.
func listenersOf(pids []int) []heldSocket {
	all := listeningSockets()
	var out []heldSocket
	for _, pid := range pids {
		for _, s := range socketsOf(pid, all) {
			out = append(out, heldSocket{pid, s})
		}
	}
	return out
}

// notLoopback lists the sockets of pids that listen anywhere but on a
// loopback address: riptide's proxies, metrics and nodes must not be
// reachable from the network.
func notLoopback(pids []int) []string {
	var bad []string
	for _, h := range listenersOf(pids) {
		if !h.Addr.IP.IsLoopback() {
			bad = append(bad, fmt.Sprintf("pid %d listens on %s", h.pid, h.socket))
		}
	}
	return bad
}

// portsOf lists the ports pids listen on.
func portsOf(pids []int) []int {
	var ports []int
	for _, h := range listenersOf(pids) {
		ports = append(ports, h.Addr.Port)
	}
	return ports
}

var confPort = regexp.MustCompile(`127\.0\.0\.1:(\d+)`)

// confPorts lists the ports the nodes' configurations name: their client,
// route and monitoring ports and the route proxies they dial.
func confPorts(dir string) []int {
	files, _ := filepath.Glob(filepath.Join(dir, "nodes", "*", "nats.conf"))
	var ports []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range confPort.FindAllSubmatch(b, -1) {
			if p, err := strconv.Atoi(string(m[1])); err == nil && p > 1 {
				ports = append(ports, p)
			}
		}
	}
	return ports
}

// stillListening waits, at most wait, until no socket listens on ports
// for the run, and returns those that still do: held by a process of the
// run (its command line names dir) or by none that shows (a process in the
// middle of exiting). A port that an unrelated process took since is not
// the run's: the kernel hands out freed ports again.
func stillListening(ports []int, dir string, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		left := listeningFor(ports, dir)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listeningFor(ports []int, dir string) []string {
	want := map[int]bool{}
	for _, p := range ports {
		want[p] = true
	}
	var left []string
	for _, s := range listeningSockets() {
		if !want[s.Addr.Port] {
			continue
		}
		owners := ownersOf(s.Inode)
		if len(owners) == 0 {
			left = append(left, fmt.Sprintf("%s listening, held by no process", s))
			continue
		}
		for _, pid := range owners {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if bytes.Contains(b, []byte(dir)) {
				left = append(left, fmt.Sprintf("%s listening, held by pid %d of the run", s, pid))
			}
		}
	}
	return left
}

// journalLeft says what the heal journal of dir shows as not undone: an
// open fault, or no end line. No journal at all is fine only if the run
// never got as far as writing one.
func journalLeft(dir string) []string {
	entries, err := injectors.ReadJournal(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return []string{err.Error()}
	}
	var left []string
	for _, e := range injectors.Unhealed(entries) {
		left = append(left, fmt.Sprintf("fault %s (%s) never healed, torn down or cleaned", e.ID, e.Kind))
	}
	if !injectors.Ended(entries) {
		left = append(left, "heal journal has no end line")
	}
	return left
}

// dirEntries lists what is in dir (a TMPDIR given to a harness).
func dirEntries(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
