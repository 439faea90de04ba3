package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The control socket lets operator commands reach a running instance
// (bbolt allows only one process to open the database). It is a Unix
// socket in the data directory, mode 0600: whoever can read the data can
// use it, nobody else.

func (c *Config) controlSocket() string { return filepath.Join(c.DataDir, "control.sock") }

var errNoInstance = errors.New("no running instance")

// serveControl starts the control socket: GET /backup streams a
// consistent copy of the database.
func (m *Main) serveControl() error {
	path := m.Config.controlSocket()
	_ = os.Remove(path) // a stale socket from a crash; we hold the store lock
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /run", m.controlRun)
	mux.HandleFunc("POST /registry/import", m.controlImport) // registry_import.go: the file streamed from the command line
	mux.HandleFunc("GET /status", m.controlStatus)           // ops.go: for bansosbot doctor
	mux.HandleFunc("GET /facts", m.controlFacts)             // doctor.go
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := m.DB.Backup(w); err != nil {
			if clientGone(r, err) {
				m.Log.Info("backup for the command line stopped: the command went away (its own message is on its side)")
				return
			}
			m.Log.Error("backup over control socket failed", "err", err)
		}
	})
	m.control = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := m.control.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("control socket stopped", "err", err)
		}
	}()
	return nil
}

func (m *Main) closeControl() {
	if m.control != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.control.Shutdown(ctx)
		_ = os.Remove(m.Config.controlSocket())
	}
}

// backupViaControl asks a running instance for a backup and writes it to
// path atomically; errNoInstance when none answers.
func backupViaControl(ctx context.Context, cfg Config, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://bansosbot/backup", nil)
	if err != nil {
		return 0, err
	}
	// The file first: a local failure must not cut the stream the bot is
	// sending.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	resp, err := controlClient(cfg).Do(req)
	if err != nil {
		return 0, errNoInstance
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("backup: running instance answered %s", resp.Status)
	}
	n, err := io.Copy(tmp, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return n, os.Rename(tmp.Name(), path)
}

// controlRequest asks a running instance to run a store command.
type controlRequest struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

const errorTrailer = "X-Bansosbot-Error"

// controlRun runs a store command in this process, streaming its output;
// the command's error, if any, comes in a trailer.
func (m *Main) controlRun(w http.ResponseWriter, r *http.Request) {
	var req controlRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	cmd, ok := storeCommands[req.Command]
	if !ok {
		http.Error(w, "unknown command", http.StatusNotFound)
		return
	}
	w.Header().Set("Trailer", errorTrailer)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	m.Log.Info("running a command for the command line", "command", req.Command)
	if err := cmd(r.Context(), m.Config, m.DB, req.Args, w); err != nil {
		if clientGone(r, err) {
			m.Log.Info("command for the command line stopped: the command went away (its own message is on its side)", "command", req.Command)
			return
		}
		m.Log.Info("command for the command line failed (the command line shows why)", "command", req.Command)
		w.Header().Set(errorTrailer, strings.ReplaceAll(err.Error(), "\n", " | "))
	}
}

// clientGone reports whether err comes from the command line's end of the
// control socket going away (it stopped on an error of its own, or was
// interrupted): the bot's log must not call that a failure ("broken
// pipe"); the command line reports its own reason.
func clientGone(r *http.Request, err error) bool {
	return r.Context().Err() != nil || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled)
}

// runViaControl runs a store command in the running instance;
// errNoInstance when none answers.
func runViaControl(ctx context.Context, cfg Config, name string, args []string, stdout io.Writer) error {
	body, _ := json.Marshal(controlRequest{Command: name, Args: args})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://bansosbot/run", bytes.NewReader(body))
	if err != nil {
		return err
	}
	return doControl(cfg, req, stdout)
}

// doControl sends a request to the running instance and copies the
// streamed answer to stdout; the command's error comes in a trailer.
// errNoInstance when nobody answers on the socket.
func doControl(cfg Config, req *http.Request, stdout io.Writer) error {
	resp, err := controlClient(cfg).Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return errNoInstance
		}
		return fmt.Errorf("running instance: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("running instance: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		return err
	}
	if e := resp.Trailer.Get(errorTrailer); e != "" {
		return errors.New(strings.ReplaceAll(e, " | ", "\n"))
	}
	return nil
}

func controlClient(cfg Config) *http.Client {
	sock := cfg.controlSocket()
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}
