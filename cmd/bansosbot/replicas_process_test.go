package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/flows"
)

// replicaEnv, when set ("INDEX,T0,OFFSET": T0 in Unix nanoseconds, the
// engine's clock OFFSET nanoseconds after it), makes the
// test binary a bot replica instead of running the tests: the replicas
// tests kill with SIGKILL must be processes of their own, and re-running
// the test binary costs no build.
const replicaEnv = "BANSOSBOT_TEST_REPLICA"

func TestMain(m *testing.M) {
	if spec := os.Getenv(replicaEnv); spec != "" {
		os.Exit(replicaMain(spec))
	}
	os.Exit(m.Run())
}

// replicaMain runs one replica: the program (Main) configured by its
// BANSOSBOT_* environment like the real one, with the test hooks of the
// in-process end-to-end tests, driven by commands on stdin, one a line:
//
//	escalate NANOS  move the engine's clock to T0+NANOS and start the
//	                escalation job as cron would; answers "escalated"
//	close           stop cleanly (exit 0)
//
// It answers "ready REPLICA-ID" once open. Logs and one line per handling
// of an update go to stderr. When stdin ends (the test is gone) it exits
// at once, so a failed test leaves no process behind.
func replicaMain(spec string) int {
	var idx int
	var t0, off int64
	if _, err := fmt.Sscanf(spec, "%d,%d,%d", &idx, &t0, &off); err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: %v\n", replicaEnv, spec, err)
		return 2
	}
	cfg, _, err := LoadConfig("bansosbot", nil, os.Getenv, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	m := NewMain(cfg, os.Stderr)
	// The engine's clock stands still but for the escalation rounds,
	// which move it days on.
	var offset atomic.Int64
	offset.Store(off)
	base := time.Unix(0, t0)
	m.Now = func() time.Time { return base.Add(time.Duration(offset.Load())) }
	m.Tune = func(b *bot.Config) {
		tuneE2E(b)
		b.ReplicaID = fmt.Sprintf("r%d-%d", idx, os.Getpid())
	}
	m.TuneEngine = func(c *flows.Config) { c.Limits.MessagesPerMinute = 10000 } // 40 messages a chat in seconds
	m.Wrap = func(h bot.Handler) bot.Handler { return &handleTrace{Handler: h, w: os.Stderr} }
	if err := m.Open(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 2
	}
	fmt.Printf("ready %s\n", m.Server.ReplicaID())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "escalate":
			n, err := strconv.ParseInt(arg, 10, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, "escalate:", err)
				return 2
			}
			offset.Store(n)
			m.job("escalation", m.escalate)() // only the holder of the jobs' lease runs it, as under cron
			fmt.Println("escalated")
		case "close":
			if err := m.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "close:", err)
				return 1
			}
			return 0
		}
	}
	return 3
}

// handleTrace writes a line for each handling of an update (a
// transaction run again handles it again), for the test's failure
// report.
type handleTrace struct {
	bot.Handler
	w io.Writer
}

func (h *handleTrace) Handle(ctx context.Context, tx flows.Store, in flows.Input) (flows.Outcome, error) {
	out, err := h.Handler.Handle(ctx, tx, in)
	fmt.Fprintf(h.w, "%s handled chat %d %s update %d err %v\n", time.Now().Format("15:04:05.000"), in.ChatID, in.Text, in.UpdateID, err)
	return out, err
}

// replicaProc is a replica process (replicaMain) seen from the test.
type replicaProc struct {
	t       *testing.T
	idx     int
	id      string // its ReplicaID in the leases
	addr    string // its webhook listener
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string // its stdout, closed when it ends
	logPath string

	mu     sync.Mutex // one command at a time
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// startReplica starts the test binary as replica idx with the
// configuration env (BANSOSBOT_* variables; the test's own are not
// inherited), its engine's clock at t0+offset; waitReady waits until it
// is open. Its log goes to logPath.
func startReplica(t *testing.T, idx int, t0 time.Time, offset time.Duration, env map[string]string, logPath string) *replicaProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BANSOSBOT_") && !strings.HasPrefix(kv, "CREDENTIALS_DIRECTORY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d,%d,%d", replicaEnv, idx, t0.UnixNano(), int64(offset)))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close() // the child has its own descriptor
	cmd.Stderr = logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &replicaProc{t: t, idx: idx, addr: env["BANSOSBOT_WEBHOOK_LISTEN"], cmd: cmd, stdin: stdin,
		lines: make(chan string, 16), logPath: logPath, exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait() // after stdout is read to its end, as Wait wants
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitReady waits until the replica is open.
func (p *replicaProc) waitReady() {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if id, found := strings.CutPrefix(l, "ready "); ok && found {
			p.id = id
			return
		}
		p.fatalf("replica %d did not start: %q", p.idx, l)
	case <-time.After(2 * time.Minute):
		p.fatalf("replica %d not open after 2 minutes", p.idx)
	}
}

// escalate runs the escalation job at T0+offset on the replica; it returns
// when the job ended, or the replica did.
func (p *replicaProc) escalate(offset time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := fmt.Fprintf(p.stdin, "escalate %d\n", int64(offset)); err != nil {
		return // killed
	}
	for l := range p.lines {
		if l == "escalated" {
			return
		}
	}
}

// kill ends the replica with SIGKILL (nothing of it runs any more: its
// connections to PostgreSQL and to the fake close, its leases stay until
// they expire) and waits until it is gone.
func (p *replicaProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	<-p.exited
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		p.t.Errorf("replica %d ended with %v; want killed by SIGKILL", p.idx, p.err)
	}
}

// close stops the replica cleanly and checks that it exited with 0 (the
// race detector makes it exit 66 when it saw a race).
func (p *replicaProc) close() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.stdin, "close")
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		p.t.Errorf("replica %d still running a minute after close", p.idx)
		return
	}
	if p.err != nil {
		p.t.Errorf("replica %d: %v at close; its log:\n%s", p.idx, p.err, p.logTail(40))
	}
}

func (p *replicaProc) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf(format+"; its log:\n%s", append(args, p.logTail(40))...)
}

// logLines returns the lines of the replica's log holding s.
func (p *replicaProc) logLines(s string) []string {
	b, _ := os.ReadFile(p.logPath)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

func (p *replicaProc) logTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
