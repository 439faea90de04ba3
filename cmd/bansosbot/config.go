package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/bansosbot/bansosbot"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the program's configuration: flags override environment
// variables, which override defaults.
type Config struct {
	Token         string
	APIURL        string
	DataDir       string
	WebhookURL    string
	WebhookListen string
	WebhookSecret string
	Admins        []int64
	Secret        string // key material for NIK hashes and ticket numbers
	TZ            string
	Log           string // "level[,format]": debug|info|warn|error, text|json
	HTTP          string // metrics and health listener, e.g. 127.0.0.1:9090

	Categories string // optional categories file (JSON)
	Calendar   string // optional business calendar file (JSON)
	SLA        string // optional service-level policies file (JSON)

	// Operations (ops.go): scheduled backups and retention.
	BackupCron string // cron spec of the backups, "off" to disable
	BackupDir  string // default DATA/backups
	BackupKeep string // how many backups to keep
	Retention  string // how long personal data of closed tickets is kept ("365d")

	Answers string // optional ready answers file (JSON)

	// DatabaseURL keeps the store in PostgreSQL (postgres://...) instead
	// of the bbolt file in DataDir (database.go).
	DatabaseURL string
	// The data controller named in the privacy notice (UU PDP).
	Controller, ControllerAddress, ControllerContact string

	SecretFile string // file holding the secret, outside DATA (secret.go)

	// Citizens' abuse limits operators may change (limits.go).
	FilingsPerDay    string // complaints one citizen may file in 24 hours
	AnnounceApproval string // recipients above which an announcement needs a second approver

	credentialsDir string // systemd's $CREDENTIALS_DIRECTORY (LoadCredential=)
	// The M&E web dashboard (web.go).
	Web    string // listen address, e.g. 127.0.0.1:8088; off when empty
	WebURL string // public URL of the dashboard (default http://Web)
	// WebTelegramLogin is the bot's username: it turns the Telegram Login
	// Widget on as a second way into the dashboard (off when empty).
	WebTelegramLogin string

	secretGenerated bool
	secretFrom      string // where Secret came from, for messages ("" = BANSOSBOT_SECRET)
}

// options describes every setting once: flag name, environment variable,
// default and help, so that flags, env and the README table agree.
var options = []struct {
	flag, env, def, help string
	field                func(*Config) *string
}{
	{"token", "BANSOSBOT_TOKEN", "", "Telegram bot token (from @BotFather)", func(c *Config) *string { return &c.Token }},
	{"api-url", "BANSOSBOT_API_URL", "https://api.telegram.org", "Bot API server (a self-hosted telegram-bot-api works too)", func(c *Config) *string { return &c.APIURL }},
	{"data", "BANSOSBOT_DATA", "./data", "data directory (database, secret, backups)", func(c *Config) *string { return &c.DataDir }},
	{"webhook-url", "BANSOSBOT_WEBHOOK_URL", "", "public HTTPS URL for Telegram's webhook; long polling when empty", func(c *Config) *string { return &c.WebhookURL }},
	{"webhook-listen", "BANSOSBOT_WEBHOOK_LISTEN", "127.0.0.1:8443", "address the webhook server listens on (behind a reverse proxy)", func(c *Config) *string { return &c.WebhookListen }},
	{"webhook-secret", "BANSOSBOT_WEBHOOK_SECRET", "", "secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (required with a webhook)", func(c *Config) *string { return &c.WebhookSecret }},
	{"admins", "BANSOSBOT_ADMINS", "", "comma-separated Telegram user ids with the admin role", nil},
	{"secret", "BANSOSBOT_SECRET", "", "key for hashing NIKs and numbering tickets; generated into DATA/secret when empty", func(c *Config) *string { return &c.Secret }},
	{"tz", "BANSOSBOT_TZ", "Asia/Jakarta", "default time zone for times without a region", func(c *Config) *string { return &c.TZ }},
	{"log", "BANSOSBOT_LOG", "info,text", "log level and format: debug|info|warn|error, text|json", func(c *Config) *string { return &c.Log }},
	{"http", "BANSOSBOT_HTTP", "", "listen address for /metrics, /healthz and /readyz (e.g. 127.0.0.1:9090); off when empty", func(c *Config) *string { return &c.HTTP }},
	{"categories", "BANSOSBOT_CATEGORIES", "", "complaint categories file (JSON); the built-in list when empty", func(c *Config) *string { return &c.Categories }},
	{"calendar", "BANSOSBOT_CALENDAR", "", "business calendar file (JSON: working days, hours, holidays); built-in when empty", func(c *Config) *string { return &c.Calendar }},
	{"sla", "BANSOSBOT_SLA", "", "service-level policies file (JSON: deadlines and escalation ladders); built-in when empty", func(c *Config) *string { return &c.SLA }},
	{"backup-cron", "BANSOSBOT_BACKUP_CRON", "30 2 * * *", "when to write a backup (cron: minute hour day month weekday, in BANSOSBOT_TZ); off to disable", func(c *Config) *string { return &c.BackupCron }},
	{"backup-dir", "BANSOSBOT_BACKUP_DIR", "", "directory of the scheduled backups (default DATA/backups)", func(c *Config) *string { return &c.BackupDir }},
	{"backup-keep", "BANSOSBOT_BACKUP_KEEP", "7", "how many scheduled backups to keep (the oldest are deleted)", func(c *Config) *string { return &c.BackupKeep }},
	{"retention", "BANSOSBOT_RETENTION", "365d", "how long personal data of closed tickets is kept (UU PDP), e.g. 365d; statistics stay", func(c *Config) *string { return &c.Retention }},
	{"answers", "BANSOSBOT_ANSWERS", "", "ready answers for information requests and where to go on disagreement (JSON, per language); built-in when empty", func(c *Config) *string { return &c.Answers }},
	{"controller", "BANSOSBOT_CONTROLLER", "", "the data controller the privacy notice names, e.g. \"Dinas Sosial Kabupaten Bogor\" (\"Dinas Sosial\" when empty)", func(c *Config) *string { return &c.Controller }},
	{"controller-address", "BANSOSBOT_CONTROLLER_ADDRESS", "", "the controller's address in the privacy notice", func(c *Config) *string { return &c.ControllerAddress }},
	{"controller-contact", "BANSOSBOT_CONTROLLER_CONTACT", "", "how citizens reach the controller for their data rights (phone, e-mail), in the privacy notice", func(c *Config) *string { return &c.ControllerContact }},
	{"secret-file", "BANSOSBOT_SECRET_FILE", "", "file holding the secret, outside the data directory (recommended; systemd's credential $CREDENTIALS_DIRECTORY/bansosbot-secret is read without it)", func(c *Config) *string { return &c.SecretFile }},
	{"web", "BANSOSBOT_WEB", "", "listen address of the read-only M&E web dashboard (e.g. 127.0.0.1:8088); off when empty", func(c *Config) *string { return &c.Web }},
	{"database-url", "BANSOSBOT_DATABASE_URL", "", "PostgreSQL URL (postgres://user@host/db) to keep the store there, so that several replicas share it; the bbolt file in DATA when empty", func(c *Config) *string { return &c.DatabaseURL }},
	{"filings-per-day", "BANSOSBOT_FILINGS_PER_DAY", "10", "complaints one citizen may file in 24 hours, withdrawn ones included (against withdrawing and filing again); 0 disables", func(c *Config) *string { return &c.FilingsPerDay }},
	{"announce-approval", "BANSOSBOT_ANNOUNCE_APPROVAL", "1000", "an announcement to more citizens than this needs a second supervisor's or admin's approval (four eyes)", func(c *Config) *string { return &c.AnnounceApproval }},
	{"web-url", "BANSOSBOT_WEB_URL", "", "public URL of the dashboard for /dasbor login links (default http://BANSOSBOT_WEB); https makes cookies Secure and sends HSTS", func(c *Config) *string { return &c.WebURL }},
	{"web-telegram-login", "BANSOSBOT_WEB_TELEGRAM_LOGIN", "", "the bot's username (without @): the dashboard's login page also offers the Telegram Login Widget (set the domain with BotFather's /setdomain); off when empty", func(c *Config) *string { return &c.WebTelegramLogin }},
}

// LoadConfig reads the environment (getenv) and then the flags in args.
// It returns the remaining arguments.
func LoadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	var c Config
	var admins string
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // run prints the usage (bansosbot -h)
	for _, o := range options {
		v := getenv(o.env)
		if v == "" {
			v = o.def
		}
		help := fmt.Sprintf("%s (env %s)", o.help, o.env)
		if o.field == nil {
			admins = v
			fs.StringVar(&admins, o.flag, v, help)
			continue
		}
		fs.StringVar(o.field(&c), o.flag, v, help)
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	c.credentialsDir = getenv("CREDENTIALS_DIRECTORY")
	var adminErr error // reported with every other problem, not instead of them
	for _, part := range strings.Split(admins, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil || id <= 0 {
			adminErr = errors.Join(adminErr, fmt.Errorf("BANSOSBOT_ADMINS: %q is not a Telegram user id (a positive number)", part))
			continue
		}
		c.Admins = append(c.Admins, id)
	}
	return c, fs.Args(), errors.Join(adminErr, c.validate())
}

func (c *Config) validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("BANSOSBOT_DATA: the data directory must not be empty"))
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("BANSOSBOT_API_URL: %q is not an http(s) URL", c.APIURL))
	}
	if c.WebhookURL != "" {
		// Telegram calls only https webhooks; a self-hosted Bot API server
		// (telegram-bot-api --local) calls plain http too.
		u, err := url.Parse(c.WebhookURL)
		if err != nil || u.Host == "" || u.Scheme != "https" && (u.Scheme != "http" || !c.selfHostedAPI()) {
			errs = append(errs, fmt.Errorf("BANSOSBOT_WEBHOOK_URL: %q must be an https URL (Telegram only calls https webhooks; "+
				"plain http works only with a self-hosted Bot API server in BANSOSBOT_API_URL)", c.WebhookURL))
		}
		if c.WebhookSecret == "" {
			errs = append(errs, errors.New("BANSOSBOT_WEBHOOK_SECRET: required in webhook mode (1-256 characters A-Z a-z 0-9 _ -)"))
		}
		if c.WebhookListen == "" {
			errs = append(errs, errors.New("BANSOSBOT_WEBHOOK_LISTEN: required in webhook mode"))
		}
	}
	if c.WebhookSecret != "" && !validSecretToken(c.WebhookSecret) {
		errs = append(errs, errors.New("BANSOSBOT_WEBHOOK_SECRET: 1-256 characters, only A-Z a-z 0-9 _ - (Telegram's rule)"))
	}
	if _, err := time.LoadLocation(c.TZ); err != nil {
		errs = append(errs, fmt.Errorf("BANSOSBOT_TZ: unknown time zone %q (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)", c.TZ))
	}
	if _, _, err := parseLog(c.Log); err != nil {
		errs = append(errs, err)
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		errs = append(errs, errors.New("BANSOSBOT_SECRET: at least 16 characters"))
	}
	if c.Secret != "" && c.SecretFile != "" {
		errs = append(errs, errors.New("BANSOSBOT_SECRET and BANSOSBOT_SECRET_FILE: set one of them (the file is recommended)"))
	}
	if err := c.validateDatabase(); err != nil { // database.go
		errs = append(errs, err)
	}
	errs = append(errs, c.validateOps()...) // ops.go
	if err := c.validateWeb(); err != nil { // web.go
		errs = append(errs, err)
	}
	errs = append(errs, c.validateLimits()...) // limits.go
	return errors.Join(errs...)
}

// selfHostedAPI reports whether BANSOSBOT_API_URL points at a Bot API
// server of one's own rather than Telegram's.
func (c *Config) selfHostedAPI() bool {
	u, err := url.Parse(c.APIURL)
	return err == nil && u.Host != "" && !strings.EqualFold(u.Hostname(), "api.telegram.org")
}

func validSecretToken(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func parseLog(s string) (slog.Level, string, error) {
	level, format, _ := strings.Cut(s, ",")
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return 0, "", fmt.Errorf("BANSOSBOT_LOG: unknown level %q (debug, info, warn, error)", level)
	}
	switch format {
	case "", "text", "json":
	default:
		return 0, "", fmt.Errorf("BANSOSBOT_LOG: unknown format %q (text, json)", format)
	}
	return l, format, nil
}

// Logger builds the logger the configuration asks for.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	level, format, _ := parseLog(c.Log)
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Location is the default time zone.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		return time.UTC
	}
	return loc
}

// DBPath is the store file.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "bansosbot.db") }

// hasData reports whether the data directory holds a database.
func (c *Config) hasData() bool {
	if c.postgres() {
		return true // the database is created by its migrations
	}
	_, err := os.Stat(c.DBPath())
	return err == nil
}

// errNoData is the answer of a data command pointed at a directory
// without a database: it must not start an empty one (the operator would
// see empty results from the wrong directory).
func (c *Config) errNoData() error {
	return fmt.Errorf("no bansosbot data at %s (set BANSOSBOT_DATA)", absPath(c.DataDir))
}

// absPath names a path absolutely, for messages (a relative ./data says
// little in a systemd or Docker log).
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// categories loads the complaint categories: the configured file, or the
// built-in list.
func (c *Config) categories() (bansosbot.Categories, error) {
	if c.Categories == "" {
		return bansosbot.DefaultCategories(), nil
	}
	f, err := os.Open(c.Categories)
	if err != nil {
		return nil, fmt.Errorf("BANSOSBOT_CATEGORIES: %w", err)
	}
	defer f.Close()
	cs, err := bansosbot.LoadCategories(f)
	if err != nil {
		return nil, fmt.Errorf("BANSOSBOT_CATEGORIES: %w", err)
	}
	return cs, nil
}
