package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/synthetic"
)

// BenchmarkStartup (issue 13 item 5) starts the real bansosbot binary on a
// data directory of -startup.tickets tickets and a registry of
// -startup.rows people, against a minimal fake Bot API, and reports the
// time from exec to its first getUpdates call and its resident memory
// (VmRSS, file pages included, as ps shows it) after -startup.idle of
// idleness; with -startup.cold the data files are dropped from the page
// cache first (fadvise DONTNEED). The data directory is built once and
// kept in $TMPDIR/bansosbot-bench:
//
//	go test ./cmd/bansosbot -run '^$' -bench Startup -benchtime 1x -count 3 -startup.tickets 1000000 -startup.rows 10000000
var (
	startupTickets = flag.Int("startup.tickets", 10000, "tickets in the startup benchmark's data directory")
	startupRows    = flag.Int("startup.rows", 100000, "registry rows in the startup benchmark's data directory")
	startupIdle    = flag.Duration("startup.idle", 5*time.Second, "idle time before reading the RSS")
	startupCold    = flag.Bool("startup.cold", true, "drop the data files from the page cache before each start")
	startupDir     = flag.String("startup.dir", "", "an existing data directory to start on instead (made with the secret below); e.g. a copy of an older version's, to time the migration")
)

const startupSecret = "startup-bench-secret-0123456789abcdef"

func BenchmarkStartup(b *testing.B) {
	dir := *startupDir
	if dir == "" {
		dir = startupData(b, *startupTickets, *startupRows)
	}
	bin := filepath.Join(b.TempDir(), "bansosbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var sizes []string
	for _, f := range []string{store.FileName, store.RegistryFileName} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			sizes = append(sizes, fmt.Sprintf("%s %.1f MB", f, float64(fi.Size())/1e6))
		}
	}
	b.Logf("data: %s", strings.Join(sizes, ", "))
	var start, rss float64
	for range b.N {
		if *startupCold {
			for _, f := range []string{store.FileName, store.RegistryFileName} {
				dropPageCache(b, filepath.Join(dir, f))
			}
		}
		api, ready := fakeBotAPI()
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "BANSOSBOT_DATA="+dir, "BANSOSBOT_TOKEN=123:bench", "BANSOSBOT_API_URL="+api.URL,
			"BANSOSBOT_SECRET="+startupSecret, "BANSOSBOT_LOG=warn", "BANSOSBOT_TZ=Asia/Jakarta")
		stderr, _ := cmd.StderrPipe()
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var logs strings.Builder
		var lw sync.WaitGroup
		lw.Add(1)
		go func() {
			defer lw.Done()
			s := bufio.NewScanner(stderr)
			for s.Scan() {
				logs.WriteString(s.Text() + "\n")
			}
		}()
		select {
		case <-ready:
		case <-time.After(10 * time.Minute):
			cmd.Process.Kill()
			b.Fatalf("no getUpdates within 10 minutes")
		}
		took := time.Since(t0)
		time.Sleep(*startupIdle)
		kb := vmRSS(b, cmd.Process.Pid)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		lw.Wait()
		api.Close()
		b.Logf("start %s (exec to first getUpdates), idle VmRSS %.1f MB", took.Round(time.Millisecond), float64(kb)/1024)
		if strings.Contains(logs.String(), "level=ERROR") {
			b.Logf("bot log:\n%s", logs.String())
		}
		start, rss = took.Seconds(), float64(kb)/1024
	}
	b.ReportMetric(start*1000, "ms-start")
	b.ReportMetric(rss, "MB-idle-RSS")
}

// fakeBotAPI answers every method with success; getUpdates (after
// signalling ready once) waits a little and returns no update.
func fakeBotAPI() (*httptest.Server, <-chan struct{}) {
	ready := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		var result any = true
		switch method {
		case "getMe":
			result = map[string]any{"id": 123, "is_bot": true, "first_name": "Bench", "username": "bench_bot"}
		case "getUpdates":
			once.Do(func() { close(ready) })
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
			result = []any{}
		case "getWebhookInfo":
			result = map[string]any{"url": ""}
		case "getMyCommands":
			result = []any{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
	}))
	return srv, ready
}

func vmRSS(b *testing.B, pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// dropPageCache writes back and evicts the file's pages (dirty pages
// cannot be dropped) and logs how many stay cached.
func dropPageCache(b *testing.B, path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	f.Sync()
	const fadvDontNeed = 4
	syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0)
	fi, _ := f.Stat()
	size := int(fi.Size())
	if size == 0 {
		return
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return
	}
	defer syscall.Munmap(data)
	vec := make([]byte, (size+os.Getpagesize()-1)/os.Getpagesize())
	syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(size), uintptr(unsafe.Pointer(&vec[0])))
	cached := 0
	for _, v := range vec {
		cached += int(v & 1)
	}
	b.Logf("%s: %d of %d pages in the page cache before the start", filepath.Base(path), cached, len(vec))
}

// startupData builds (once) a data directory with n tickets like the
// operations benchmarks' (three events, description, phone, photo; a
// fifth open) and a synthetic registry of rows people.
func startupData(b *testing.B, n, rows int) string {
	base := filepath.Join(os.TempDir(), "bansosbot-bench")
	dir := filepath.Join(base, fmt.Sprintf("startup-%d-%d", n, rows))
	if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	cfg := Config{DataDir: dir, Secret: startupSecret}
	db, err := store.Open(cfg.DBPath(), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	provinces := []string{"11", "32", "35", "73", "91"}
	cats := bansosbot.DefaultCategories()
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		err := db.Update(func(tx *store.Tx) error {
			for i := 0; i < 5000 && done < n; i++ {
				id, _ := tx.NextTicketSeq()
				region := bansosbot.RegionCode(fmt.Sprintf("%s.%02d.%02d", provinces[rng.IntN(len(provinces))], 1+rng.IntN(4), 1+rng.IntN(2)))
				created := t0.Add(time.Duration(rng.Int64N(int64(320 * 24 * time.Hour))))
				t := &bansosbot.Ticket{ID: id, No: bansosbot.NewTicketNo(id, cfg.key("ticket-number")), Category: cats[rng.IntN(len(cats))].Code,
					Region: region, Description: "Bantuan belum diterima, rumah di jalan nomor " + fmt.Sprint(id),
					Phone: "+62812" + fmt.Sprint(10000000+id), CitizenID: int64(100000 + id),
					Attachments: []bansosbot.Attachment{{FileID: "AgAC" + fmt.Sprint(id), FileUniqueID: "u" + fmt.Sprint(id)}},
					CreatedAt:   created, FirstResponseAt: created.Add(20 * time.Hour), DueResponse: created.Add(72 * time.Hour),
					DueResolve: created.Add(60 * 24 * time.Hour), Status: bansosbot.StatusClosed}
				if rng.IntN(5) == 0 {
					t.Status = bansosbot.StatusInProgress
				} else {
					t.ResolvedAt, t.ClosedAt, t.Rating = created.Add(5*24*time.Hour), created.Add(6*24*time.Hour), 1+rng.IntN(5)
				}
				for _, ev := range []bansosbot.Event{
					{At: created, Role: "citizen", Kind: bansosbot.EventCreated, Text: t.Description},
					{At: t.FirstResponseAt, Role: "worker", Kind: bansosbot.EventStatus, From: "new", To: "in_progress", Text: "Sedang kami periksa"},
					{At: t.FirstResponseAt, Role: "worker", Kind: bansosbot.EventMessage, Text: "Mohon ditunggu, Bapak/Ibu"},
				} {
					if _, err := tx.AppendEvent(t, ev); err != nil {
						return err
					}
				}
				if err := tx.PutTicket(t); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	csvPath := filepath.Join(base, fmt.Sprintf("registry-%d.csv", rows)) // shared with the store benchmarks
	if _, err := os.Stat(csvPath); err != nil {
		f, err := os.Create(csvPath + ".tmp")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := synthetic.Registry(f, rows, 1); err != nil {
			b.Fatal(err)
		}
		f.Close()
		os.Rename(csvPath+".tmp", csvPath)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	asOf, _ := parseDate("2026-10-01")
	if _, err := db.ImportRegistry(context.Background(), f, store.ImportOptions{Key: cfg.key("nik"), AsOf: asOf, Source: filepath.Base(csvPath)}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600)
	return dir
}
