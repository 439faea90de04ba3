package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
	"golang.org/x/text/encoding/charmap"
)

// "bansosbot registry import" (issue 12 items 4-6). The command line
// process reads the file (so it only has to be readable by the operator:
// the systemd unit's ProtectHome and PrivateTmp hide /home and /tmp from
// the bot, and a container sees only its volume), checks its encoding and
// the date of the data, and streams it to the store: in this process, or
// in the running bot through the control socket (POST /registry/import).

type importOpts struct {
	date, programs, temp, encoding, lang *string
	maxErrors                            *int
	dryRun, force                        *bool
}

func importFlags(out io.Writer) (*flag.FlagSet, importOpts) {
	fs := flag.NewFlagSet("registry import", flag.ContinueOnError)
	fs.SetOutput(out)
	return fs, importOpts{
		date:      fs.String("date", "", "date of the data (YYYY-MM-DD), shown with every answer; required unless the file's first line is \"# date: YYYY-MM-DD\""),
		programs:  fs.String("programs", "", "programs file (JSON, like config/programs.json); default: the built-in list"),
		maxErrors: fs.Int("max-errors", 0, "stop after this many bad rows (0: report them all)"),
		temp:      fs.String("temp", "", "directory for the sorted runs of a large file (default: the data directory)"),
		dryRun:    fs.Bool("dry-run", false, "check and count the file, per program; write nothing"),
		force:     fs.Bool("force", false, "import a file with under half the rows of the current data"),
		encoding:  fs.String("encoding", "utf-8", "encoding of the file: utf-8 or windows-1252 (Excel's plain \"CSV\")"),
		lang:      fs.String("lang", "id", "language of the messages: id or en"),
	}
}

// importRequest is an import's settings, sent to the running bot in a
// header with the file as the request body.
type importRequest struct {
	Date      string          `json:"date"`
	Programs  json.RawMessage `json:"programs,omitempty"`
	MaxErrors int             `json:"max_errors,omitempty"`
	Temp      string          `json:"temp,omitempty"`
	DryRun    bool            `json:"dry_run,omitempty"`
	Force     bool            `json:"force,omitempty"`
	Lang      string          `json:"lang"`
	Source    string          `json:"source"`
	Size      int64           `json:"size"` // -1: unknown (standard input)
}

const importHeader = "X-Bansosbot-Import"

// cliText renders a registrycli.* message in the CLI's language.
func cliText(lang, key string, args ...any) string {
	return catText(lang, "registrycli."+key, args...)
}

// catText renders a catalog message (full key) in the CLI's language
// with name, value pairs as its arguments ("Count" selects the plural).
func catText(lang, key string, args ...any) string {
	m := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		m[args[i].(string)] = args[i+1]
	}
	return locales.MustDefault().Text(lang, key, m)
}

// cliError is an error already worded for the operator.
type cliError struct{ msg string }

func (e *cliError) Error() string { return e.msg }

// rowLine is "baris 12: ..." in the CLI's language, with the operator's
// wording of NIK errors (nik.* speaks to a citizen).
func rowLine(lang string, line int, err error) string {
	return cliText(lang, "row", "Line", line, "Text", rowText(lang, err))
}

func rowText(lang string, err error) string {
	var e *bansosbot.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	cat := locales.MustDefault()
	if op := "registrycli." + e.Key; strings.HasPrefix(e.Key, "nik.") && cat.Has(lang, op) {
		return cat.Text(lang, op, e.Args)
	}
	return cat.Text(lang, e.Key, e.Args)
}

func registryImportCLI(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs, o := importFlags(stdout)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("registry import: give one CSV file (or - for standard input)\n%s", registryUsage)
	}
	lang := *o.lang
	if lang != "en" {
		lang = "id"
	}
	req := importRequest{MaxErrors: *o.maxErrors, Temp: *o.temp, DryRun: *o.dryRun, Force: *o.force, Lang: lang, Size: -1}
	if *o.programs != "" {
		raw, err := os.ReadFile(*o.programs)
		if err != nil {
			return err
		}
		if _, err := bansosbot.LoadPrograms(bytes.NewReader(raw)); err != nil {
			return err
		}
		req.Programs = raw
	}
	if req.Temp != "" {
		abs, err := filepath.Abs(req.Temp)
		if err != nil {
			return err
		}
		req.Temp = abs
	}
	var in io.Reader = stdin
	req.Source = "stdin"
	if name := files[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			req.Size = fi.Size()
		}
		in, req.Source = f, filepath.Base(name)
	}
	check := &inputCheck{lang: lang}
	switch strings.ToLower(strings.ReplaceAll(*o.encoding, "_", "-")) {
	case "utf-8", "utf8", "":
		check.r = in
		check.utf8 = true
	case "windows-1252", "cp1252", "latin1", "iso-8859-1":
		check.r = charmap.Windows1252.NewDecoder().Reader(in)
	default:
		return &cliError{cliText(lang, "bad_encoding", "Value", *o.encoding)}
	}
	br := bufio.NewReaderSize(check, 64<<10)
	date, err := importDate(br, *o.date, lang)
	if err != nil {
		return err
	}
	req.Date = date

	err = runWithStore(ctx, cfg, "registry", []string{"import"}, stdout,
		func(db *store.DB, cfg Config) error { return doImport(ctx, cfg, db, req, br, stdout) },
		func() error { return importViaControl(ctx, cfg, req, br, stdout) })
	if check.err != nil { // the reader's own error says more than what it caused
		return check.err
	}
	return err
}

// importDate returns the date of the data: -date, or a "# date:" line at
// the top of the file (before the header); both must agree.
func importDate(br *bufio.Reader, flagDate, lang string) (string, error) {
	var fileDate string
	head, _ := br.Peek(4 << 10)
	head = bytes.TrimPrefix(head, []byte("\ufeff"))
	for len(head) > 0 && head[0] == '#' {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(string(line), "#")), ":")
		if k = strings.ToLower(strings.TrimSpace(k)); ok && (k == "date" || k == "tanggal") {
			fileDate = strings.TrimSpace(v)
		}
	}
	for _, d := range []string{flagDate, fileDate} {
		if d == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return "", &cliError{cliText(lang, "bad_date", "Value", d)}
		}
	}
	switch {
	case flagDate != "" && fileDate != "" && flagDate != fileDate:
		return "", &cliError{cliText(lang, "date_conflict", "Flag", flagDate, "File", fileDate)}
	case flagDate != "":
		return flagDate, nil
	case fileDate != "":
		return fileDate, nil
	}
	return "", &cliError{cliText(lang, "no_date")}
}

// inputCheck passes the file through, refusing bytes that are not UTF-8
// with the line they are on (a file saved by Excel as plain "CSV" is
// Windows-1252: names with é or ñ would be stored garbled).
type inputCheck struct {
	r    io.Reader
	utf8 bool
	lang string
	line int
	tail []byte // an incomplete rune at the end of the last read
	err  error
}

func (c *inputCheck) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if c.utf8 && n > 0 {
		if cerr := c.check(p[:n], err == io.EOF); cerr != nil {
			c.err = cerr
			return 0, cerr
		}
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

func (c *inputCheck) check(b []byte, eof bool) error {
	if c.line == 0 {
		c.line = 1
	}
	buf := append(c.tail, b...)
	c.tail = nil
	for i := 0; i < len(buf); {
		if buf[i] < utf8.RuneSelf {
			if buf[i] == '\n' {
				c.line++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(buf[i:])
		if r == utf8.RuneError && size <= 1 {
			if !eof && !utf8.FullRune(buf[i:]) {
				c.tail = append([]byte(nil), buf[i:]...)
				return nil
			}
			return &cliError{cliText(c.lang, "not_utf8", "Line", c.line, "Byte", fmt.Sprintf("%02X", buf[i]))}
		}
		i += size
	}
	return nil
}

// doImport runs an import on an open store (here, or in the bot for the
// control socket), reporting to w in the request's language.
func doImport(ctx context.Context, cfg Config, db *store.DB, req importRequest, in io.Reader, w io.Writer) error {
	lang := req.Lang
	asOf, err := time.Parse(time.DateOnly, req.Date)
	if err != nil {
		return &cliError{cliText(lang, "bad_date", "Value", req.Date)}
	}
	programs := bansosbot.DefaultPrograms()
	if len(req.Programs) > 0 {
		if programs, err = bansosbot.LoadPrograms(bytes.NewReader(req.Programs)); err != nil {
			return err
		}
	}
	rep := newImportReporter(w, req.Size, lang)
	res, err := db.ImportRegistry(ctx, in, store.ImportOptions{
		Key: cfg.key("nik"), Programs: programs, AsOf: asOf, Source: req.Source,
		TempDir: req.Temp, MaxErrors: req.MaxErrors, DryRun: req.DryRun, Force: req.Force,
		BadRow: rep.badRow, Progress: rep.progress,
	})
	rep.finish()
	var shrink *store.ShrinkError
	switch {
	case errors.Is(err, store.ErrBadRows):
		return &cliError{cliText(lang, "bad_rows", "Count", rep.bad)}
	case errors.As(err, &shrink):
		return &cliError{cliText(lang, "shrink", "Rows", shrink.Rows, "Current", shrink.Current)}
	case bansosbot.ErrorKey(err) != "":
		return &cliError{cliText(lang, "failed", "Detail", rowText(lang, err))}
	case err != nil:
		return &cliError{cliText(lang, "failed", "Detail", err.Error())}
	}
	s := res.Snapshot
	if req.DryRun {
		fmt.Fprintln(w, cliText(lang, "dry_run", "Count", s.Stats.Rows, "Source", s.Source, "Date", req.Date, "Programs", len(s.Programs)))
		for i, p := range s.Programs {
			fmt.Fprintln(w, cliText(lang, "dry_program", "Code", p.Code, "N", s.Stats.Receivers[i]))
		}
		cur, err := db.RegistrySnapshot()
		switch {
		case err != nil:
			return err
		case cur == nil:
			fmt.Fprintln(w, cliText(lang, "dry_first"))
		default:
			fmt.Fprintln(w, cliText(lang, "dry_replace", "Old", cur.ID, "Current", cur.Stats.Rows, "Date", cur.AsOf.Format(time.DateOnly)))
			if 2*s.Stats.Rows < cur.Stats.Rows {
				fmt.Fprintln(w, cliText(lang, "dry_shrink"))
			}
		}
		return nil
	}
	took := res.Read + res.Write
	fmt.Fprintln(w, cliText(lang, "imported", "Count", s.Stats.Rows, "Source", s.Source, "Date", s.AsOf.Format(time.DateOnly),
		"Took", took.Round(time.Millisecond).String()))
	if res.Replaced != 0 {
		fmt.Fprintln(w, cliText(lang, "replaced", "Old", res.Replaced, "New", s.ID))
	}
	if fi, err := os.Stat(db.RegistryPath()); err == nil {
		fmt.Fprintln(w, cliText(lang, "dbfile", "Path", db.RegistryPath(), "MB", fmt.Sprintf("%.1f", float64(fi.Size())/1e6)))
	}
	return nil
}

// registryRollback is "registry rollback" on an open store.
func registryRollback(db *store.DB, args []string, w io.Writer) error {
	fs, langFlag := langFlags("registry rollback")
	fs.SetOutput(w)
	if err := fs.Parse(args); err != nil {
		return err
	}
	lang := cliLang(*langFlag)
	from, to, err := db.RegistryRollback()
	switch {
	case errors.Is(err, store.ErrNoPrevious):
		return &cliError{cliText(lang, "no_previous")}
	case errors.Is(err, store.ErrOtherKey):
		return &cliError{cliText(lang, "other_key")}
	case err != nil:
		return err
	}
	full, err := db.RegistrySnapshot()
	if err != nil {
		return err
	}
	fromID := uint64(0)
	if from != nil {
		fromID = from.ID
	}
	fmt.Fprintln(w, cliText(lang, "rolled_back", "To", to.ID, "Date", to.AsOf.Format(time.DateOnly), "Count", full.Stats.Rows, "From", fromID))
	return nil
}

// importViaControl streams the file to the running bot; errNoInstance
// when none answers.
func importViaControl(ctx context.Context, cfg Config, req importRequest, in io.Reader, stdout io.Writer) error {
	hdr, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://bansosbot/registry/import", in)
	if err != nil {
		return err
	}
	hreq.Header.Set(importHeader, string(hdr))
	hreq.Header.Set("Content-Type", "text/csv")
	return doControl(cfg, hreq, stdout)
}

// controlImport is POST /registry/import: the body is the file.
func (m *Main) controlImport(w http.ResponseWriter, r *http.Request) {
	var req importRequest
	if err := json.Unmarshal([]byte(r.Header.Get(importHeader)), &req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	// Progress and bad rows go out while the file still comes in.
	_ = http.NewResponseController(w).EnableFullDuplex()
	w.Header().Set("Trailer", errorTrailer)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	m.Log.Info("importing the registry for the command line", "source", req.Source, "dry_run", req.DryRun)
	if err := doImport(r.Context(), m.Config, m.DB, req, r.Body, w); err != nil {
		w.Header().Set(errorTrailer, strings.ReplaceAll(err.Error(), "\n", " | "))
	}
}
