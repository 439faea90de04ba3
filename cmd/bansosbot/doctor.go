package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// runDoctor checks what an operator gets wrong most: the configuration,
// the data directory and its permissions, the database's schema (or the
// running instance's health, through the control socket), and the Bot API
// (token, webhook, waiting updates, Telegram's last webhook error). It
// prints each finding with how to fix it, and fails when something is
// wrong (warnings alone do not fail).
//
//	bansosbot doctor
func runDoctor(ctx context.Context, cfg Config, cfgErr error, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "--recount" { // tally.go
		if cfgErr != nil {
			return cfgErr
		}
		return runStore(ctx, cfg, "recount", args[1:], stdout)
	}
	if len(args) > 0 {
		return errors.New("usage: bansosbot doctor [--recount [--rebuild]]")
	}
	d := &doctor{w: stdout}
	// The operator's shell often lacks the service's environment (the
	// systemd EnvironmentFile): what the running bot has counts.
	if live, err := factsViaControl(ctx, cfg); err == nil {
		d.live = &live
	}
	d.config(cfg, cfgErr)
	d.dataDir(cfg)
	facts := d.database(ctx, cfg)
	d.operations(cfg, cfgErr, facts)
	d.telegram(ctx, cfg, cfgErr)
	fmt.Fprintf(stdout, "\n%s\n", catText(doctorLang, "ops.doctor.summary",
		"Problems", catText(doctorLang, "ops.doctor.problems", "Count", d.fails),
		"Warnings", catText(doctorLang, "ops.doctor.warnings", "Count", d.warns)))
	if d.fails > 0 {
		return &cliError{catText(doctorLang, "ops.doctor.found", "Problems", catText(doctorLang, "ops.doctor.problems", "Count", d.fails))}
	}
	return nil
}

// doctorLang is the language of doctor's summary line (ops.doctor.* in
// the catalog, both languages with their plurals); its findings are
// English.
const doctorLang = "en"

type doctor struct {
	w            io.Writer
	fails, warns int
	live         *opsFacts // the running bot's, when one runs on the data directory
}

func (d *doctor) section(name string) { fmt.Fprintf(d.w, "\n%s\n", name) }

func (d *doctor) ok(format string, args ...any) {
	fmt.Fprintf(d.w, "  ok    %s\n", fmt.Sprintf(format, args...))
}

func (d *doctor) warn(msg, fix string) {
	d.warns++
	fmt.Fprintf(d.w, "  WARN  %s\n        fix: %s\n", msg, fix)
}

func (d *doctor) fail(msg, fix string) {
	d.fails++
	fmt.Fprintf(d.w, "  FAIL  %s\n        fix: %s\n", msg, fix)
}

func (d *doctor) config(cfg Config, cfgErr error) {
	d.section("Configuration")
	if cfgErr != nil {
		for _, line := range strings.Split(cfgErr.Error(), "\n") {
			d.fail(line, "set the option right (bansosbot help lists every option and its BANSOSBOT_* variable)")
		}
	} else {
		d.ok("options valid: %s mode, Bot API %s, time zone %s", modeName(&cfg), cfg.APIURL, cfg.TZ)
	}
	if cfg.Token == "" {
		d.fail("no Telegram token (BANSOSBOT_TOKEN)", "create a bot with @BotFather and set BANSOSBOT_TOKEN; to try the bot without one: bansosbot demo")
	}
	if ecfg, err := NewMain(cfg, io.Discard).engineConfig(); err != nil {
		d.fail(err.Error(), "fix the file named in the message, or unset the option to use the built-in one")
	} else {
		d.ok("categories, calendar and service levels load")
		d.calendar(ecfg.Calendar, cfg.Location())
	}
}

// operations checks monitoring, backups, retention, admins and staffing,
// as the running bot has them when one runs (facts come from it), else
// as this configuration and the database file say.
func (d *doctor) operations(cfg Config, cfgErr error, f *opsFacts) {
	title, whose := "Operations (this configuration)", ""
	if d.live != nil {
		f, title, whose = d.live, "Operations (the running bot)", "the running bot has "
	}
	d.section(title)
	if f == nil {
		d.warn("not checked", "fix the configuration and the database first")
		return
	}
	if f.HTTP == "" {
		d.warn(whose+"no monitoring listener (BANSOSBOT_HTTP)", "set BANSOSBOT_HTTP=127.0.0.1:9090 and scrape /metrics, probe /readyz")
	} else {
		d.ok("monitoring on %s (/metrics, /healthz, /readyz)", f.HTTP)
	}
	if d.live != nil || cfgErr == nil {
		if f.Retention == "off" {
			d.warn("retention is off (BANSOSBOT_RETENTION=off): personal data of closed tickets is kept forever",
				"UU PDP: keep personal data only as long as needed; set BANSOSBOT_RETENTION, e.g. 365d")
		} else {
			d.ok("retention %s", f.Retention)
		}
		if f.BackupCron == "" {
			d.warn("scheduled backups are off (BANSOSBOT_BACKUP_CRON)", "set BANSOSBOT_BACKUP_CRON, e.g. \"30 2 * * *\", or back up another way (bansosbot backup FILE)")
		} else {
			d.ok("scheduled backups at %q", f.BackupCron)
		}
	}
	if d.live != nil || cfgErr == nil {
		d.controller(f)
	}
	if f.Admins == 0 {
		d.warn("no admin: nobody can manage staff from Telegram, and tickets that no worker or supervisor covers reach no one",
			"set BANSOSBOT_ADMINS to your Telegram user id (and restart the bot), or: bansosbot staff add --role admin --id ID --name NAME")
	} else {
		d.ok("%d admin%s", f.Admins, plural(f.Admins))
	}
	if f.RegistryOtherKey {
		d.fail("the registry was imported under another secret than the database's (an interrupted rotate-secret?): status checks find nobody",
			"import it again with the configured secret: bansosbot registry import -date YYYY-MM-DD FILE.csv")
	}
	if f.Unrouted > 0 {
		d.fail(unroutedText(f.Unrouted)+"; the citizens were told the service is not staffed yet",
			"add staff for the region (bansosbot staff invite --role worker --region CODE) or an admin (BANSOSBOT_ADMINS)")
	}
	if len(f.Unstaffed) > 0 {
		var parts []string
		for i, r := range f.Unstaffed {
			if i == 10 {
				parts = append(parts, fmt.Sprintf("and %d more", len(f.Unstaffed)-10))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %s (%d open ticket%s)", r.Region, bansosbot.DefaultRegions().DisplayName(r.Region), r.Open, plural(r.Open)))
		}
		what := fmt.Sprintf("%d regions with open tickets have no worker or supervisor", len(f.Unstaffed))
		if len(f.Unstaffed) == 1 {
			what = "1 region with open tickets has no worker or supervisor"
		}
		d.warn(what+": "+strings.Join(parts, "; "),
			"bansosbot staff invite --role worker --region CODE (or staff add); bansosbot region find NAME shows codes")
	}
}

// controller warns while the privacy notice names the data controller
// by the bare default ("Dinas Sosial") or without its address or
// contact: UU PDP asks that citizens be told who controls their data and
// how to reach it for their rights.
func (d *doctor) controller(f *opsFacts) {
	var missing, set []string
	if f.Controller == "" {
		missing = append(missing, `only "Dinas Sosial" as the controller (BANSOSBOT_CONTROLLER is unset)`)
		set = append(set, `BANSOSBOT_CONTROLLER (your office, e.g. "Dinas Sosial Kabupaten Bogor")`)
	}
	if f.ControllerAddress == "" {
		missing = append(missing, "no address (BANSOSBOT_CONTROLLER_ADDRESS)")
		set = append(set, "BANSOSBOT_CONTROLLER_ADDRESS (its address)")
	}
	if f.ControllerContact == "" {
		missing = append(missing, "no contact (BANSOSBOT_CONTROLLER_CONTACT)")
		set = append(set, "BANSOSBOT_CONTROLLER_CONTACT (the phone or e-mail for requests about personal data)")
	}
	notice := "the privacy notice"
	if d.live != nil {
		notice = "the running bot's privacy notice"
	}
	if len(missing) == 0 {
		d.ok("%s names the data controller: %s, %s, %s", notice, f.Controller, f.ControllerAddress, f.ControllerContact)
		return
	}
	d.warn(notice+" gives "+strings.Join(missing, ", "),
		"UU PDP: citizens must be told who controls their data and how to reach it; set "+strings.Join(set, ", ")+", and restart the bot")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// opsFacts is what doctor checks about operations. A running bot reports
// its own (GET /facts on the control socket), so that doctor run from a
// shell without the service's environment does not warn about settings
// the bot has.
type opsFacts struct {
	HTTP         string `json:"http"`
	BackupCron   string `json:"backup_cron"` // "" when off
	BackupDir    string `json:"backup_dir"`
	Retention    string `json:"retention"` // "off" or the option's value
	Admins       int    `json:"admins"`    // configured and active admin staff
	SecretSource string `json:"secret_source"`
	// Unstaffed are the regions with open tickets that no active worker
	// or supervisor covers, most open tickets first.
	Unstaffed []regionLoad `json:"unstaffed"`
	// Unrouted counts the open tickets nobody at all may handle (see
	// flows.Engine.Unrouted).
	Unrouted int `json:"unrouted"`
	// RegistryOtherKey: the registry was imported under another secret
	// than the database's (an interrupted rotate-secret).
	RegistryOtherKey bool `json:"registry_other_key"`
	// The data controller the privacy notice names ("" when unset).
	Controller        string `json:"controller"`
	ControllerAddress string `json:"controller_address"`
	ControllerContact string `json:"controller_contact"`
}

type regionLoad struct {
	Region bansosbot.RegionCode `json:"region"`
	Open   int                  `json:"open"`
}

// collectFacts reads the facts from a configuration and its database
// (nil: none yet).
func collectFacts(cfg Config, db *store.DB) (opsFacts, error) {
	f := opsFacts{HTTP: cfg.HTTP, BackupCron: cfg.backupSchedule(), BackupDir: cfg.backupDir(), Retention: "off", Admins: len(cfg.Admins), SecretSource: cfg.secretSource(),
		Controller: cfg.Controller, ControllerAddress: cfg.ControllerAddress, ControllerContact: cfg.ControllerContact}
	if d := cfg.retention(); d > 0 {
		f.Retention = fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	if db == nil {
		return f, nil
	}
	var open []bansosbot.Status
	for _, st := range bansosbot.Statuses {
		if st.Open() {
			open = append(open, st)
		}
	}
	err := db.View(func(tx *store.Tx) error {
		var staff []*bansosbot.Staff
		if err := tx.AllStaff(func(s *bansosbot.Staff) bool {
			if s.Active && s.Role == bansosbot.RoleAdmin && !slices.Contains(cfg.Admins, s.UserID) {
				f.Admins++
			}
			if s.Active && s.Role != bansosbot.RoleAdmin {
				staff = append(staff, s)
			}
			return true
		}); err != nil {
			return err
		}
		byRegion := map[bansosbot.RegionCode]int{}
		if err := tx.RegionTickets("", open, func(t *bansosbot.Ticket) bool {
			byRegion[t.Region]++
			return true
		}); err != nil {
			return err
		}
		for r, n := range byRegion {
			if !slices.ContainsFunc(staff, func(s *bansosbot.Staff) bool { return s.Covers(r) }) {
				f.Unstaffed = append(f.Unstaffed, regionLoad{r, n})
			}
		}
		cats, err := cfg.categories()
		if err != nil {
			cats = bansosbot.DefaultCategories()
		}
		f.Unrouted, err = flows.NewEngine(flows.Config{Admins: cfg.Admins, Categories: cats}).Unrouted(tx)
		return err
	})
	if ok, serr := cfg.loadSecret(); ok && serr == nil {
		f.RegistryOtherKey = !db.RegistryKeyMatches(cfg.key("nik"))
	}
	slices.SortFunc(f.Unstaffed, func(a, b regionLoad) int {
		if a.Open != b.Open {
			return b.Open - a.Open
		}
		return strings.Compare(string(a.Region), string(b.Region))
	})
	return f, err
}

// factsViaControl asks a running instance for its facts.
func factsViaControl(ctx context.Context, cfg Config) (opsFacts, error) {
	var f opsFacts
	return f, getControl(ctx, cfg, "/facts", &f)
}

// controlFacts answers GET /facts on the control socket.
func (m *Main) controlFacts(w http.ResponseWriter, r *http.Request) {
	f, err := collectFacts(m.Config, m.DB)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(f)
}

// calendar warns of incomplete years of the business calendar (nil: the
// built-in one) that are near: deadlines would count their holidays and
// cuti bersama as working days.
func (d *doctor) calendar(cal *bansosbot.Calendar, loc *time.Location) {
	if cal == nil {
		cal = bansosbot.DefaultCalendar()
	}
	for _, g := range calendarGaps(cal, time.Now(), loc) {
		d.warn("business calendar incomplete for "+g.String(),
			"add the year's national holidays and cuti bersama (SKB 3 Menteri) to a calendar file and set BANSOSBOT_CALENDAR (see config/calendar.json)")
	}
}

// private reports whether a mode gives nothing to group and others.
func private(mode fs.FileMode) bool { return mode.Perm()&0o077 == 0 }

func (d *doctor) dataDir(cfg Config) {
	d.section("Data directory " + cfg.DataDir)
	fi, err := os.Stat(cfg.DataDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.warn("it does not exist yet", "it is created at the first start (mode 0700); the bot's user must be able to create it")
		return
	case err != nil:
		d.fail(err.Error(), "check the path and the permissions of its parents")
		return
	case !fi.IsDir():
		d.fail("it is not a directory", "point BANSOSBOT_DATA at a directory")
		return
	}
	if private(fi.Mode()) {
		d.ok("mode %04o", fi.Mode().Perm())
	} else {
		d.warn(fmt.Sprintf("readable by group or others (mode %04o): it holds personal data", fi.Mode().Perm()), "chmod 700 "+cfg.DataDir)
	}
	if f, err := os.CreateTemp(cfg.DataDir, ".doctor-*"); err != nil {
		d.fail("not writable by this user: "+err.Error(), "run the bot as the directory's owner (or chown it to the bot's user)")
	} else {
		f.Close()
		os.Remove(f.Name())
	}

	secret := cfg.secretFile()
	raw, err := os.ReadFile(secret)
	switch {
	case errors.Is(err, os.ErrNotExist) && cfg.Secret == "" && d.live != nil:
		d.ok("secret: the running bot's, from %s", d.live.SecretSource)
	case errors.Is(err, os.ErrNotExist) && cfg.Secret == "":
		d.warn("no secret yet (neither BANSOSBOT_SECRET nor "+secret+")",
			"one is generated at the first start; back it up with the database: NIK hashes and ticket numbers depend on it")
	case errors.Is(err, os.ErrNotExist):
		d.ok("secret from BANSOSBOT_SECRET")
	case err != nil:
		d.fail("cannot read "+secret+": "+err.Error(), "chown the file to the bot's user")
	default:
		sfi, _ := os.Stat(secret)
		if !private(sfi.Mode()) {
			d.fail(fmt.Sprintf("%s is readable by others (mode %04o)", secret, sfi.Mode().Perm()), "chmod 600 "+secret)
		} else {
			d.ok("secret file mode %04o", sfi.Mode().Perm())
		}
		if len(strings.TrimSpace(string(raw))) < 16 {
			d.fail(secret+" is too short", "restore it from a backup of the data directory")
		}
		if cfg.Secret != "" && cfg.Secret != strings.TrimSpace(string(raw)) {
			d.warn("BANSOSBOT_SECRET differs from "+secret+"; the variable wins",
				"keep only the one the database was made with (a wrong secret breaks NIK hashes and ticket numbers)")
		}
	}
	d.secretPlace(cfg)
	if dfi, err := os.Stat(cfg.DBPath()); err == nil && !private(dfi.Mode()) {
		d.warn(fmt.Sprintf("%s is readable by others (mode %04o)", cfg.DBPath(), dfi.Mode().Perm()), "chmod 600 "+cfg.DBPath())
	}
	d.backups(cfg)
}

// secretPlace warns when the secret lives in the data directory: a copy of
// DATA (a synced folder, a disk image, a backup of the whole directory)
// then carries the key with the hashes it protects, and the NIKs of the
// registry can be found by trying every NIK. It also warns of a DATA/secret
// left behind once the secret comes from elsewhere.
func (d *doctor) secretPlace(cfg Config) {
	source := ""
	if d.live != nil {
		source = d.live.SecretSource
	} else if ok, err := cfg.loadSecret(); ok && err == nil {
		source = cfg.secretSource()
	}
	_, err := os.Stat(cfg.secretFile())
	leftover := err == nil
	inData := pathInside(cfg.DataDir, source)
	switch {
	case inData:
		d.warn("the secret is in the data directory ("+source+"): a copy of the directory carries the key together with the hashes it protects",
			"move it out (docs/OPERATIONS.md, \"The secret\"): install -m 0400 "+source+" /etc/bansosbot/secret, then "+
				"LoadCredential=bansosbot-secret:/etc/bansosbot/secret in the unit (or BANSOSBOT_SECRET_FILE=/etc/bansosbot/secret), restart, and delete "+source)
	case leftover && source != "":
		d.warn(cfg.secretFile()+" is still there although the secret comes from "+source,
			"delete it (shred -u "+cfg.secretFile()+") once the bot runs with the secret from outside: a copy of the directory would carry it")
	case source != "":
		d.ok("secret kept outside the data directory (%s)", source)
	}
}

// pathInside reports whether file lies in dir (both made absolute).
func pathInside(dir, file string) bool {
	if dir == "" || file == "" || !filepath.IsAbs(file) && !strings.ContainsRune(file, filepath.Separator) {
		return false
	}
	d, err1 := filepath.Abs(dir)
	f, err2 := filepath.Abs(file)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (d *doctor) backups(cfg Config) {
	dir, schedule := cfg.backupDir(), cfg.backupSchedule()
	if d.live != nil {
		dir, schedule = d.live.BackupDir, d.live.BackupCron
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if schedule != "" {
			d.ok("no scheduled backup yet (into %s, %s)", dir, schedule)
		}
		return
	}
	if err != nil {
		d.fail("backup directory: "+err.Error(), "make "+dir+" readable and writable by the bot's user")
		return
	}
	if fi, err := os.Stat(dir); err == nil && !private(fi.Mode()) {
		d.warn(fmt.Sprintf("%s is readable by others (mode %04o): backups hold personal data", dir, fi.Mode().Perm()), "chmod 700 "+dir)
	}
	var names []string
	for _, e := range entries {
		if backupName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		d.ok("no scheduled backup yet in %s", dir)
		return
	}
	newest := names[len(names)-1]
	t, err := time.Parse("20060102T150405Z", strings.TrimSuffix(strings.TrimPrefix(newest, "bansosbot-"), ".db"))
	if err == nil && time.Since(t) > 48*time.Hour && schedule != "" {
		d.warn(fmt.Sprintf("the newest backup %s is %s old", newest, time.Since(t).Round(time.Hour)),
			"is the bot running? look for \"job failed\" job=backup in its log")
		return
	}
	d.ok("%d backup%s, newest %s", len(names), plural(len(names)), newest)
}

// database checks the database file, or the running bot holding it; it
// returns the operations facts read from the file (nil when a bot runs:
// its own facts count, or when the file cannot be read).
func (d *doctor) database(ctx context.Context, cfg Config) *opsFacts {
	if cfg.postgres() {
		return d.postgres(ctx, cfg) // pgops.go
	}
	path := cfg.DBPath()
	d.section("Database " + path)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		d.ok("no database yet: it is created at the first start")
		f, _ := collectFacts(cfg, nil)
		return &f
	}
	info, err := store.Inspect(path, 300*time.Millisecond, false)
	if errors.Is(err, store.ErrLocked) {
		d.running(ctx, cfg)
		return nil
	}
	if err != nil {
		d.fail(err.Error(), "restore the newest backup: bansosbot restore "+filepath.Join(cfg.backupDir(), "<newest>.db"))
		return nil
	}
	switch {
	case info.Version == 0:
		d.fail("not a bansosbot database (no schema version)", "move it away; the bot creates a new one, or restore a backup")
	case info.Version > store.SchemaVersion():
		d.fail(fmt.Sprintf("schema version %d: written by a newer bansosbot (this one knows up to %d); downgrading is not supported", info.Version, store.SchemaVersion()),
			"run the newer version, or restore a backup taken before the upgrade")
	case info.Version < store.SchemaVersion():
		d.warn(fmt.Sprintf("schema version %d: migrated to %d at the next start", info.Version, store.SchemaVersion()),
			"take a backup before starting the new version: bansosbot backup FILE")
	default:
		d.ok("schema version %d, %d tickets, %d updates in the inbox, %d messages in the outbox (no bot running)", info.Version, info.Tickets, info.Inbox, info.Outbox)
	}
	if info.DeadLetters > 0 {
		d.warn(fmt.Sprintf("%d dead letters (updates or messages that failed for good)", info.DeadLetters),
			"look at the log entries with \"dead letter\"; they are deleted after 90 days")
	}
	d.secretOfData(cfg, info)
	if info.Version != store.SchemaVersion() {
		f, _ := collectFacts(cfg, nil)
		return &f
	}
	db, err := store.Open(path, store.Options{ReadOnly: true, LockTimeout: 300 * time.Millisecond})
	if err != nil {
		d.fail("cannot read the database: "+err.Error(), "see the message; is a bansosbot starting on it?")
		return nil
	}
	defer db.Close()
	f, err := collectFacts(cfg, db)
	if err != nil {
		d.fail("cannot read staff and tickets: "+err.Error(), "restore the newest backup")
		return nil
	}
	return &f
}

// secretOfData checks that the configured secret is the one the database
// was made with (the bot refuses to start otherwise).
func (d *doctor) secretOfData(cfg Config, info store.FileInfo) {
	ok, err := cfg.loadSecret()
	switch {
	case err != nil:
		return // reported with the data directory
	case !ok && (info.SecretFingerprint != "" || info.Tickets > 0):
		d.fail("no secret for this database (neither BANSOSBOT_SECRET nor "+cfg.secretFile()+"); the bot would make a new one and refuse the data",
			"put back the secret it was made with (the secret file saved with its backup, or BANSOSBOT_SECRET)")
	case !ok:
	default:
		if err := cfg.secretMatches(info); err != nil {
			d.fail("the database: "+err.Error()+"; the bot refuses to start",
				"configure the secret the database was made with (BANSOSBOT_SECRET, or the secret file saved with its backup)")
		} else if info.SecretFingerprint != "" {
			d.ok("secret matches the database (fingerprint %s)", info.SecretFingerprint)
		}
	}
}

// running reports on the instance that holds the database.
func (d *doctor) running(ctx context.Context, cfg Config) {
	st, err := statusViaControl(ctx, cfg)
	if err != nil {
		d.fail("locked by a process that does not answer on "+cfg.controlSocket(),
			"is an older bansosbot running? (systemctl status bansosbot, ps aux | grep bansosbot)")
		return
	}
	d.ok("a bansosbot is running on it: schema %d, inbox %d, outbox %d", st.Schema, st.Inbox, st.Outbox)
	if !st.Ready {
		var bad []string
		for k, v := range st.Checks {
			if v != "ok" {
				bad = append(bad, k+": "+v)
			}
		}
		slices.Sort(bad)
		d.fail("the running bot is not ready: "+strings.Join(bad, "; "), "see its log; the Bot API section below tells whether Telegram answers")
	}
	if st.DeadLetters > 0 {
		d.warn(fmt.Sprintf("%d dead letters (updates or messages that failed for good)", st.DeadLetters),
			"look at the log entries with \"dead letter\"; they are deleted after 90 days")
	}
}

// statusViaControl asks a running instance for its status.
func statusViaControl(ctx context.Context, cfg Config) (instanceStatus, error) {
	var st instanceStatus
	return st, getControl(ctx, cfg, "/status", &st)
}

// getControl reads a JSON answer of a running instance's control socket;
// errNoInstance when none answers.
func getControl(ctx context.Context, cfg Config, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://bansosbot"+path, nil)
	if err != nil {
		return err
	}
	resp, err := controlClient(cfg).Do(req)
	if err != nil {
		return errNoInstance
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (d *doctor) telegram(ctx context.Context, cfg Config, cfgErr error) {
	d.section("Telegram Bot API " + cfg.APIURL)
	if cfg.Token == "" || cfgErr != nil {
		d.warn("not checked", "fix the configuration first")
		return
	}
	srv, err := bot.New(bot.Config{Token: cfg.Token, APIURL: cfg.APIURL, HTTPClient: &http.Client{Timeout: 15 * time.Second}}, nil, nil)
	if err != nil {
		d.fail(err.Error(), "check BANSOSBOT_TOKEN and BANSOSBOT_API_URL")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	me, err := srv.API().GetMe(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "unauthorized") {
			d.fail("the token is refused (401 Unauthorized)", "copy the token again from @BotFather (/mybots → API Token) into BANSOSBOT_TOKEN")
		} else {
			d.fail("cannot reach the Bot API: "+strings.ReplaceAll(err.Error(), cfg.Token, "***"), "check the network, proxy and firewall (outgoing HTTPS), or BANSOSBOT_API_URL")
		}
		return
	}
	d.ok("getMe: @%s (id %d)", me.Username, me.ID)
	info, err := srv.API().GetWebhookInfo(ctx)
	if err != nil {
		d.fail("getWebhookInfo: "+strings.ReplaceAll(err.Error(), cfg.Token, "***"), "try again; check the network")
		return
	}
	switch {
	case cfg.WebhookURL == "" && info.URL != "":
		d.warn("Telegram has a webhook ("+info.URL+") but this configuration polls",
			"the bot deletes the webhook when it starts polling; if another deployment uses that webhook, run only one of them")
	case cfg.WebhookURL == "":
		d.ok("no webhook: the bot polls")
	case info.URL == "":
		d.warn("no webhook registered at Telegram yet", "the bot registers "+cfg.WebhookURL+" when it starts; start it and check its log")
	case info.URL != cfg.WebhookURL:
		d.fail("Telegram's webhook is "+info.URL+" but BANSOSBOT_WEBHOOK_URL is "+cfg.WebhookURL,
			"restart the bot to register the configured URL, or fix BANSOSBOT_WEBHOOK_URL")
	default:
		d.ok("webhook %s registered", info.URL)
	}
	if info.PendingUpdateCount > 100 {
		d.warn(fmt.Sprintf("%d updates wait at Telegram", info.PendingUpdateCount),
			"the bot is stopped or cannot keep up; Telegram keeps updates for 24 hours only")
	} else {
		d.ok("%d update%s waiting at Telegram", info.PendingUpdateCount, plural(info.PendingUpdateCount))
	}
	if info.LastErrorDate > 0 {
		at := time.Unix(int64(info.LastErrorDate), 0)
		if time.Since(at) < 24*time.Hour {
			d.warn(fmt.Sprintf("Telegram's last webhook error, %s ago: %s", time.Since(at).Round(time.Minute), info.LastErrorMessage),
				"check the reverse proxy (it must forward "+hookPath(cfg.WebhookURL)+" to "+cfg.WebhookListen+"), its TLS certificate, and that the bot runs")
		}
	}
}
