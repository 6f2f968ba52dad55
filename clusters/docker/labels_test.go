package docker

import (
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestOwnerState(t *testing.T) {
	me := self()
	require.NotZero(t, me.pid)
	parent := ownerOf(map[string]string{LabelPID: strconv.Itoa(os.Getppid()), LabelPIDStart: procStart(os.Getppid()),
		LabelBoot: me.boot, LabelHost: me.host})

	tests := []struct {
		name  string
		owner owner
		want  ownerState
	}{
		{"this process", me, ownerAlive},
		{"another live process", parent, ownerAlive},
		{"round trip through labels", ownerOf(me.labels()), ownerAlive},
		{"a process that exited", owner{pid: deadPID(t), start: "1", boot: me.boot, host: me.host}, ownerGone},
		{"a reused pid", owner{pid: me.pid, start: me.start + "0", boot: me.boot, host: me.host}, ownerGone},
		{"before a reboot", owner{pid: me.pid, start: me.start, boot: "another-boot", host: me.host}, ownerGone},
		{"no pid label", owner{host: me.host}, ownerGone},
		{"another host", owner{pid: 1, host: me.host + "-elsewhere"}, ownerElsewhere},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.owner.state(me))
		})
	}
}

func TestProcStartReadsField22(t *testing.T) {
	start := procStart(os.Getpid())
	if start == "" {
		t.Skip("no /proc on this system")
	}
	_, err := strconv.ParseUint(start, 10, 64)
	require.NoError(t, err, "start time %q", start)
	assert.Equal(t, start, procStart(os.Getpid()), "stable for one process")
	assert.NotEqual(t, start, procStart(1), "differs from init's")
}
