package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c Config, rest []string)
		wantErr []string // substrings of the error; nil means no error
	}{
		{name: "defaults", check: func(t *testing.T, c Config, _ []string) {
			if c.APIURL != "https://api.telegram.org" || c.DataDir != "./data" || c.TZ != "Asia/Jakarta" || c.Log != "info,text" {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "env", env: map[string]string{"BANSOSBOT_TOKEN": "1:env", "BANSOSBOT_ADMINS": "11, 22", "BANSOSBOT_DATA": "/srv/x"},
			check: func(t *testing.T, c Config, _ []string) {
				if c.Token != "1:env" || len(c.Admins) != 2 || c.Admins[1] != 22 || c.DataDir != "/srv/x" {
					t.Errorf("from env = %+v", c)
				}
			}},
		{name: "flags win over env", env: map[string]string{"BANSOSBOT_TOKEN": "1:env", "BANSOSBOT_ADMINS": "11"},
			args: []string{"-token", "2:flag", "-admins", "33", "demo", "-x"},
			check: func(t *testing.T, c Config, rest []string) {
				if c.Token != "2:flag" || len(c.Admins) != 1 || c.Admins[0] != 33 {
					t.Errorf("flags did not win: %+v", c)
				}
				if strings.Join(rest, " ") != "demo -x" {
					t.Errorf("rest = %v; want the subcommand and its flags", rest)
				}
			}},
		{name: "bad admin id", env: map[string]string{"BANSOSBOT_ADMINS": "11,abc"}, wantErr: []string{"BANSOSBOT_ADMINS", `"abc"`}},
		{name: "webhook needs https and a secret", env: map[string]string{"BANSOSBOT_WEBHOOK_URL": "http://x.example/hook"},
			wantErr: []string{"must be an https URL", "BANSOSBOT_WEBHOOK_SECRET: required"}},
		{name: "webhook secret charset", env: map[string]string{"BANSOSBOT_WEBHOOK_URL": "https://x.example/hook", "BANSOSBOT_WEBHOOK_SECRET": "no spaces!"},
			wantErr: []string{"A-Z a-z 0-9 _ -"}},
		{name: "every problem at once", env: map[string]string{"BANSOSBOT_TZ": "Mars/Olympus", "BANSOSBOT_LOG": "loud", "BANSOSBOT_API_URL": "ftp://x"},
			wantErr: []string{"BANSOSBOT_TZ", "BANSOSBOT_LOG", "BANSOSBOT_API_URL"}},
		{name: "bad admins do not hide the rest", env: map[string]string{"BANSOSBOT_ADMINS": "11,abc", "BANSOSBOT_TZ": "Mars/Olympus", "BANSOSBOT_LOG": "loud"},
			wantErr: []string{"BANSOSBOT_ADMINS", `"abc"`, "BANSOSBOT_TZ", "BANSOSBOT_LOG"}},
		{name: "plain-http webhook with a self-hosted Bot API", env: map[string]string{"BANSOSBOT_API_URL": "http://telegram-bot-api:8081",
			"BANSOSBOT_WEBHOOK_URL": "http://bansosbot:8443/hook", "BANSOSBOT_WEBHOOK_SECRET": "s3cret"},
			check: func(t *testing.T, c Config, _ []string) {
				if c.WebhookURL != "http://bansosbot:8443/hook" {
					t.Errorf("webhook = %q", c.WebhookURL)
				}
			}},
		{name: "plain-http webhook with Telegram's Bot API", env: map[string]string{"BANSOSBOT_WEBHOOK_URL": "http://x.example/hook", "BANSOSBOT_WEBHOOK_SECRET": "s3cret"},
			wantErr: []string{"must be an https URL", "self-hosted"}},
		{name: "short secret", env: map[string]string{"BANSOSBOT_SECRET": "short"}, wantErr: []string{"at least 16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rest, err := LoadConfig("bansosbot", tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				tt.check(t, c, rest)
				return
			}
			if err == nil {
				t.Fatalf("no error; want %v", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestGeneratedSecret(t *testing.T) {
	dir := t.TempDir()
	c := Config{DataDir: filepath.Join(dir, "data")}
	if err := c.ensureSecret(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.secretFile())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v; want 0600", fi.Mode().Perm())
	}
	first := c.Secret
	c2 := Config{DataDir: c.DataDir}
	if err := c2.ensureSecret(); err != nil || c2.Secret != first || c2.secretGenerated {
		t.Errorf("second start: secret %q generated=%v err=%v; want the stored one reused", c2.Secret, c2.secretGenerated, err)
	}
	if string(c.key("nik")) == string(c.key("ticket-number")) {
		t.Error("derived keys are equal")
	}
}

// TestTokenAndSecretNeverLogged runs the bot with debug logs through a
// start, a conversation and a failing Bot API, and scans the log.
func TestTokenAndSecretNeverLogged(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	cfg.Log = "debug,json"
	var logs bytes.Buffer
	m := e.start(cfg, func(m *Main) { m.Log = cfg.Logger(&syncWriter{w: &logs}) })
	u := e.onboardUser(701)
	e.fake.SetDown(true)
	e.fake.SendCommand(u, "/x")
	e.fake.SetDown(false)
	e.waitBot(u.ID, 3)
	m.Close()
	got := logs.String()
	if len(got) == 0 {
		t.Fatal("no logs at all")
	}
	for _, secret := range []string{testToken, strings.Split(testToken, ":")[1], cfg.Secret} {
		if strings.Contains(got, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}

// TestAnswersFile: BANSOSBOT_ANSWERS replaces the built-in ready answers,
// and a broken file stops the start with the variable named.
func TestAnswersFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "answers.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"answers": [{"id": "jadwal", "titles": {"id": "Jadwal", "en": "Schedule"}, "texts": {"id": "Tahap 4: Desember.", "en": "Stage 4: December."}}]}`), 0o600)
	os.WriteFile(bad, []byte(`{"answers": [{"id": "Jadwal Bayar"}]}`), 0o600)
	m := NewMain(Config{Answers: good}, io.Discard)
	cfg, err := m.engineConfig()
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := cfg.Answers.Get("jadwal"); !ok || a.Texts["en"] != "Stage 4: December." || len(cfg.Answers.Items) != 1 {
		t.Errorf("answers = %+v; want the file's one answer", cfg.Answers)
	}
	if _, err := NewMain(Config{Answers: bad}, io.Discard).engineConfig(); err == nil || !strings.Contains(err.Error(), "BANSOSBOT_ANSWERS") {
		t.Errorf("broken answers file: err = %v; want BANSOSBOT_ANSWERS named", err)
	}
	if cfg, err := NewMain(Config{}, io.Discard).engineConfig(); err != nil || cfg.Answers != nil {
		t.Errorf("without a file: %v, %v; want nil (the engine's built-in answers)", cfg.Answers, err)
	}
}
