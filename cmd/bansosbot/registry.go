package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/synthetic"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

const registryUsage = `Usage:
  bansosbot registry import -date YYYY-MM-DD [--dry-run] [--force] [-encoding E] [-lang L] [-programs FILE] [-max-errors N] FILE.csv|-
  bansosbot registry rollback [-lang L]
  bansosbot registry stats [-lang L]
  bansosbot registry gen -n N [-seed S] [-date YYYY-MM-DD] -out FILE.csv

import replaces the eligibility registry with FILE.csv ("-": standard
input), all or nothing. This command reads the file and streams it to the
store: to the running bot through DATA/control.sock when one runs (which
keeps answering), so the file only has to be readable by you. The date of
the data is required: -date, or a first line "# date: YYYY-MM-DD". A file
with under half the rows of the current data is refused without --force;
--dry-run checks and counts without writing. The previous snapshot is kept:
rollback returns to it. import, rollback and stats speak Indonesian
(-lang en: English). Separator "," or ";" (detected); UTF-8, or -encoding
windows-1252. Columns (header line, any order, names case-insensitive):
  nik            16-digit NIK
  name           full name as on the KTP
  desil          1-10, empty for none
  <CODE>         optional, per program (PKH, SEMBAKO, PBI-JK, ATENSI...): Y or N
  <CODE>_period  optional, e.g. "Oktober-Desember 2026"
  <CODE>_remark  optional, e.g. "Dana sudah tersalurkan"
Only keyed hashes of NIKs and names are stored.
`

// runRegistry runs "bansosbot registry ...": gen here; import reads the
// file here and streams it to the store (here, or the running bot through
// the control socket: registry_import.go); stats and rollback work on the
// store, here or inside the running bot.
func runRegistry(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, registryUsage)
		return errors.New("registry: missing subcommand")
	}
	switch args[0] {
	case "gen":
		return registryGen(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, registryUsage)
		return nil
	case "import":
		return registryImportCLI(ctx, cfg, args[1:], stdin, stdout)
	}
	return runStore(ctx, cfg, "registry", args, stdout)
}

// registryCommand is "registry import" and "registry stats" on an open
// store (a storeCommand).
func registryCommand(ctx context.Context, cfg Config, db *store.DB, args []string, w io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "stats":
			return registryStats(cfg, db, args[1:], w)
		case "rollback":
			return registryRollback(db, args[1:], w)
		}
	}
	return fmt.Errorf("registry: unknown subcommand\n%s", registryUsage)
}

// parseDate reads a YYYY-MM-DD date of the data.
func parseDate(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	return d, nil
}

// importReporter shows an import's progress: a bar with rate and ETA on a
// terminal, a plain line every few seconds otherwise (logs, pipes).
type importReporter struct {
	mu       sync.Mutex // bad rows and progress arrive from two goroutines
	out      io.Writer
	size     int64
	tty      bool
	bar      *progressbar.ProgressBar
	phase    string
	lastLine time.Time
	bad      int
	lang     string
}

func newImportReporter(out io.Writer, size int64, lang string) *importReporter {
	r := &importReporter{out: out, size: size, lang: lang}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty = true
	}
	return r
}

func (r *importReporter) badRow(e store.RowError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad++
	if r.bar != nil {
		r.bar.Clear()
	}
	fmt.Fprintln(r.out, rowLine(r.lang, e.Line, e.Err))
	r.flush()
}

// flush pushes lines through the control socket as they come.
func (r *importReporter) flush() {
	if f, ok := r.out.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *importReporter) progress(p store.ImportProgress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size > 0 && p.Bytes > r.size {
		// A decoded file (-encoding windows-1252) is longer as UTF-8
		// than on disk: never more than the whole file.
		p.Bytes = r.size
	}
	if p.Phase != r.phase {
		r.finishBar()
		r.phase = p.Phase
		if r.tty {
			r.bar = r.newBar(p)
		}
	}
	if r.bar != nil {
		if p.Phase == store.PhaseRead {
			r.bar.Set64(p.Bytes)
		} else {
			r.bar.Set64(p.Rows)
		}
		return
	}
	if time.Since(r.lastLine) < 5*time.Second {
		return
	}
	r.lastLine = time.Now()
	if p.Phase == store.PhaseRead {
		if r.size > 0 {
			fmt.Fprintln(r.out, cliText(r.lang, "progress_read", "Count", p.Rows, "Pct", fmt.Sprintf("%.0f", 100*float64(p.Bytes)/float64(r.size))))
		} else {
			fmt.Fprintln(r.out, cliText(r.lang, "progress_read_stream", "Count", p.Rows))
		}
	} else {
		fmt.Fprintln(r.out, cliText(r.lang, "progress_write", "Rows", p.Rows, "Count", p.Total))
	}
	r.flush()
}

func (r *importReporter) newBar(p store.ImportProgress) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(r.out), progressbar.OptionSetPredictTime(true), progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200 * time.Millisecond), progressbar.OptionShowElapsedTimeOnFinish(),
	}
	// The two descriptions padded alike, so that the bars line up.
	read, write := cliText(r.lang, "bar_read"), cliText(r.lang, "bar_write")
	width := max(utf8.RuneCountInString(read), utf8.RuneCountInString(write))
	pad := func(s string) string { return s + strings.Repeat(" ", width-utf8.RuneCountInString(s)) }
	if p.Phase == store.PhaseRead {
		return progressbar.NewOptions64(r.size, append(opts, progressbar.OptionSetDescription(pad(read)),
			progressbar.OptionShowBytes(true))...)
	}
	return progressbar.NewOptions64(p.Total, append(opts, progressbar.OptionSetDescription(pad(write)),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(cliText(r.lang, "bar_rows")))...)
}

func (r *importReporter) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finishBar()
}

func (r *importReporter) finishBar() {
	if r.bar != nil {
		r.bar.Finish()
		fmt.Fprintln(r.out)
		r.bar = nil
	}
}

// langFlags are the flags of "registry stats" and "registry rollback":
// the CLI's language.
func langFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, fs.String("lang", "id", "language of the messages: id or en")
}

// cliLang is the CLI's language of a -lang value: en, else Indonesian.
func cliLang(s string) string {
	if s == "en" {
		return "en"
	}
	return "id"
}

// registryStats prints the current snapshot's counts per program, decile
// and province, in the CLI's language (-lang id or en).
func registryStats(cfg Config, db *store.DB, args []string, w io.Writer) error {
	fs, langFlag := langFlags("registry stats")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("registry stats: %w\n%s", err, registryUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("registry stats: unexpected %q\n%s", fs.Arg(0), registryUsage)
	}
	lang := cliLang(*langFlag)
	tr := func(key string, args ...any) string { return cliText(lang, "stats."+key, args...) }
	share := func(n, total int) string {
		s := fmt.Sprintf("%.1f%%", pct(n, total))
		if lang == "id" { // Indonesian writes 12,5 (as the report does)
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	s, err := db.RegistrySnapshot()
	if err != nil {
		return err
	}
	if s == nil {
		fmt.Fprintln(w, tr("none"))
		return nil
	}
	st := s.Stats
	fmt.Fprintln(w, tr("snapshot", "ID", s.ID, "Date", s.AsOf.Format(time.DateOnly),
		"At", s.ImportedAt.In(cfg.Location()).Format("2006-01-02 15:04 MST"), "Source", s.Source))
	if p, err := db.RegistryPrevious(); err == nil && p != nil {
		fmt.Fprintln(w, tr("previous", "ID", p.ID, "Date", p.AsOf.Format(time.DateOnly), "Count", p.Stats.Rows))
	}
	fmt.Fprintln(w, tr("people", "Count", st.Rows))
	fmt.Fprintln(w)

	fmt.Fprintf(w, "%-5s %8s %7s\n", tr("col_desil"), tr("col_people"), tr("col_share"))
	for d, n := range st.Desil {
		label := fmt.Sprint(d)
		if d == 0 {
			label = tr("no_desil")
		}
		fmt.Fprintf(w, "%-5s %8d %7s\n", label, n, share(n, st.Rows))
	}

	fmt.Fprintf(w, "\n%-10s %10s %7s  %s\n", tr("col_program"), tr("col_receiving"), tr("col_share"), tr("col_target"))
	for i, p := range s.Programs {
		target := "-"
		if len(p.Desil) == 2 {
			target = tr("target", "From", p.Desil[0], "To", p.Desil[1])
		}
		n := 0
		if i < len(st.Receivers) {
			n = st.Receivers[i]
		}
		fmt.Fprintf(w, "%-10s %10d %7s  %s\n", p.Code, n, share(n, st.Rows), target)
	}

	regions := bansosbot.DefaultRegions()
	fmt.Fprintf(w, "\n%-34s %9s", tr("col_province"), tr("col_people"))
	for _, p := range s.Programs {
		fmt.Fprintf(w, " %9s", p.Code)
	}
	fmt.Fprintln(w)
	for _, ps := range st.Provinces {
		name := string(ps.Code)
		if r, ok := regions.Get(ps.Code); ok {
			name += " " + r.Name
		}
		if len(name) > 34 {
			name = name[:33] + "…"
		}
		fmt.Fprintf(w, "%-34s %9d", name, ps.Rows)
		for i := range s.Programs {
			n := 0
			if i < len(ps.Receivers) {
				n = ps.Receivers[i]
			}
			fmt.Fprintf(w, " %9d", n)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func pct(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

func genFlags() (fs *flag.FlagSet, n *int, seed *int64, out, date *string) {
	fs = flag.NewFlagSet("registry gen", flag.ContinueOnError)
	return fs, fs.Int("n", 0, "number of people"), fs.Int64("seed", 1, "random seed: the same seed gives the same file"),
		fs.String("out", "", "output CSV file"), fs.String("date", "2026-10-01", "date the periods refer to")
}

// registryGen writes a synthetic registry and prints people to try.
func registryGen(args []string, stdout, stderr io.Writer) error {
	fs, n, seed, out, date := genFlags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 || *out == "" || fs.NArg() != 0 {
		fmt.Fprint(stderr, registryUsage)
		return errors.New("registry gen: -n and -out are required")
	}
	asOf, err := parseDate(*date)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	start := time.Now()
	samples, err := synthetic.Generate(f, synthetic.Options{N: *n, Seed: *seed, AsOf: asOf})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(stdout, "Wrote %d synthetic people to %s in %s (not real data).\n", *n, *out, time.Since(start).Round(time.Millisecond))
	printSamples(stdout, samples)
	return nil
}

// demoRegistry loads a small synthetic registry into db (for the demo)
// and prints people to try.
func demoRegistry(ctx context.Context, db *store.DB, key []byte, n int, w io.Writer) error {
	var csv bytes.Buffer
	samples, err := synthetic.Registry(&csv, n, 1)
	if err != nil {
		return err
	}
	asOf, _ := parseDate("2026-10-01")
	if _, err := db.ImportRegistry(ctx, &csv, store.ImportOptions{Key: key, AsOf: asOf, Source: "synthetic"}); err != nil {
		return fmt.Errorf("demo registry: %w", err)
	}
	fmt.Fprintf(w, "A synthetic registry of %d people is loaded (not real data).\n", n)
	printSamples(w, samples)
	return nil
}

// printSamples lists NIK and name pairs to try with /cek.
func printSamples(w io.Writer, samples []synthetic.Sample) {
	fmt.Fprintln(w, "Try /cek with:")
	for _, s := range samples {
		what := "not registered"
		if s.Registered {
			progs := slices.Clone(s.Receives)
			for i, p := range progs {
				if slices.Contains(s.Unpaid, p) {
					progs[i] += " (not paid yet)"
				}
			}
			what = "receives " + strings.Join(progs, ", ")
			if len(s.Receives) == 0 {
				what = "registered, receives nothing"
			}
			if s.Desil == 0 {
				what += ", no decile"
			} else {
				what += fmt.Sprintf(", desil %d", s.Desil)
			}
		}
		fmt.Fprintf(w, "  NIK %s  name %-28s (%s)\n", s.NIK.Digits(), s.Name, what)
	}
}
