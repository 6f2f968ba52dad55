package reports_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/reports"
)

// The report is checked in a real browser: Debian's chromium, headless.
// --dump-dom prints the DOM once the page has loaded and its scripts ran;
// --enable-logging=stderr prints every console message as a line with
// "CONSOLE" in it, uncaught exceptions included. The report writes nothing
// to the console, so any such line is a failure.

// dialogHook replaces alert, confirm and prompt with a console message: a
// real dialog would block --dump-dom until the timeout, and an injected
// script's first move is usually alert(1).
const dialogHook = `<script>window.alert=window.confirm=window.prompt=function(m){console.error("DIALOG "+m)}</script>`

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
	return ""
}

// browse loads the HTML file at path (with an optional #fragment) and
// returns the DOM after its scripts ran and the console lines it printed.
func browse(t *testing.T, path, fragment string) (dom string, console []string) {
	t.Helper()
	return browseThen(t, path, fragment, "")
}

// browseThen is browse with a script run after the page's own (a user's
// actions); timers it starts run before the DOM is taken.
func browseThen(t *testing.T, path, fragment, script string) (dom string, console []string) {
	t.Helper()
	bin := chromiumPath(t)
	// The hook goes first in <head>, before any script of the page.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	hooked := filepath.Join(filepath.Dir(path), "hooked-"+filepath.Base(path))
	page := strings.Replace(string(b), "<head>", "<head>"+dialogHook, 1)
	if script != "" {
		page = strings.Replace(page, "</body>", "<script>"+script+"</script></body>", 1)
	}
	require.NoError(t, os.WriteFile(hooked, []byte(page), 0o644))

	// A guard, not an assertion: a page that hangs the browser fails here
	// instead of hanging the test binary.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-extensions", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--dump-dom", "file://"+hooked+fragment)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, ctx.Err(), "chromium did not finish loading the page: %s", stderr.String())
	require.NoError(t, err, "chromium: %s", stderr.String())
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") {
			console = append(console, line)
		}
	}
	return string(out), console
}

// TestBrowserHarnessSeesErrorsAndDialogs proves the checks below can fail:
// a script error and an executed payload both show up.
func TestBrowserHarnessSeesErrorsAndDialogs(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.html")
	require.NoError(t, os.WriteFile(broken, []byte(`<!DOCTYPE html><html><head></head><body>
<p>report</p><script>undefinedFunction()</script><img src=x onerror=alert(1)></body></html>`), 0o644))
	dom, console := browse(t, broken, "")
	assertHas(t, dom, "<p>report</p>")
	joined := strings.Join(console, "\n")
	assert.Contains(t, joined, "undefinedFunction is not defined", "an uncaught exception is seen")
	assert.Contains(t, joined, "DIALOG 1", "an alert from an injected handler is seen")
}

func TestReportLoadsCleanlyInChromium(t *testing.T) {
	h := synthetic(5000, 20*time.Second)
	// Lose one acknowledged send, late in the run: no read returns it, so
	// that the report has an anomaly with links into the table.
	lostOp := loseALateSend(t, h)
	r := resultsFor(t, fixtureScenario("browser"), h)
	require.Equal(t, 1, r.Counts["lost"], "the fixture loses one send")
	dir := t.TempDir()
	require.NoError(t, reports.Write(dir, r, h))
	path := filepath.Join(dir, "report.html")

	dom, console := browse(t, path, "")
	assert.Empty(t, console, "the report writes nothing to the console")
	// The script ran: the first page of the operation table is rendered.
	rows := regexp.MustCompile(`(?s)<tbody id="op-rows">(.*?)</tbody>`).FindStringSubmatch(dom)
	require.NotNil(t, rows)
	assert.Equal(t, 100, strings.Count(rows[1], "<tr")-strings.Count(rows[1], `class="gap"`), "one page of operations")
	assertHas(t, rows[1], "<td>#0</td>")
	assertHas(t, dom, "page 1 of ")

	// An anomaly's link opens the table at its operation, highlighted.
	assertHas(t, dom, fmt.Sprintf(`href="#op-%d"`, lostOp))
	dom, console = browse(t, path, fmt.Sprintf("#op-%d", lostOp))
	assert.Empty(t, console)
	hl := regexp.MustCompile(`<tr class="[^"]*\bhl\b[^"]*"><td>#(\d+)</td>`).FindStringSubmatch(dom)
	require.NotNil(t, hl, "a highlighted row")
	assert.Equal(t, fmt.Sprint(lostOp), hl[1])
	assertAbsent(t, dom, "page 1 of ", "the table moved to the operation's page")
}

func TestOperationTableSearch(t *testing.T) {
	h := synthetic(3000, 10*time.Second)
	r := resultsFor(t, fixtureScenario("search"), h)
	dir := t.TempDir()
	require.NoError(t, reports.Write(dir, r, h))
	// A user types a value and keeps only acknowledged operations.
	search := `var s=document.getElementById("op-search");s.value="2-17";s.dispatchEvent(new Event("input"));
var ty=document.getElementById("op-type");ty.value="ok";ty.dispatchEvent(new Event("change"));`
	dom, console := browseThen(t, filepath.Join(dir, "report.html"), "", search)
	assert.Empty(t, console)
	rows := regexp.MustCompile(`(?s)<tbody id="op-rows">(.*?)</tbody>`).FindStringSubmatch(dom)
	require.NotNil(t, rows)
	trs := regexp.MustCompile(`<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(rows[1], -1)
	// 2-17 and 2-170..2-179 are sent, acknowledged and read: 11 sends and
	// the polls that returned them, all of type ok.
	require.NotEmpty(t, trs)
	for _, tr := range trs {
		assertHas(t, tr[1], "2-17")
		assertHas(t, tr[1], `<td class="t-ok">ok</td>`)
	}
	assert.Regexp(t, `<p id="op-note" class="muted">\d+ of \d+ embedded operations match</p>`, dom)
}

func TestHostileValuesDoNotRunInChromium(t *testing.T) {
	dir, r, h := hostileRun(t)
	require.NoError(t, reports.Write(dir, r, h))
	dom, console := browse(t, filepath.Join(dir, "report.html"), "")
	assert.Empty(t, console, "no dialog, no error")
	assertAbsent(t, dom, "<img", "no element was injected")
	// The payloads are on the page as text, in the server-rendered parts
	// and in the rows the script built.
	assertHas(t, dom, "&lt;script&gt;alert(1)&lt;/script&gt;")
	rows := regexp.MustCompile(`(?s)<tbody id="op-rows">(.*?)</tbody>`).FindStringSubmatch(dom)
	require.NotNil(t, rows)
	assertHas(t, rows[1], "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>")
	assertHas(t, rows[1], "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
}
