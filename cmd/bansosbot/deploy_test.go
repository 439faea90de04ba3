package main

import (
	"bufio"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The deployment files are tested as written (issue 12 item 12): the
// compose file and the Caddyfile agree on names, ports, path and secret;
// the unit's Documentation= exists once installed as documented; the Go
// version of go.mod, README and the Docker builder agree. docker build
// itself cannot run here (no Docker engine).

// yamlNode is the subset of YAML the compose file uses: block mappings,
// "- item" lists and scalars.
type yamlNode struct {
	scalar string
	items  []*yamlNode
	keys   map[string]*yamlNode
}

func (n *yamlNode) get(path ...string) *yamlNode {
	for _, k := range path {
		if n == nil || n.keys == nil {
			return nil
		}
		n = n.keys[k]
	}
	return n
}

type yamlLine struct {
	indent int
	text   string
}

// parseYAML reads block mappings and lists (enough for a compose file);
// comments and blank lines are skipped.
func parseYAML(t *testing.T, path string) *yamlNode {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []yamlLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		raw := sc.Text()
		text := strings.TrimSpace(raw)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		lines = append(lines, yamlLine{len(raw) - len(strings.TrimLeft(raw, " ")), text})
	}
	n, rest := parseBlock(lines)
	if len(rest) > 0 {
		t.Fatalf("%s: cannot read from %q", path, rest[0].text)
	}
	return n
}

func unquote(s string) string { return strings.Trim(strings.TrimSpace(s), `"'`) }

func parseBlock(lines []yamlLine) (*yamlNode, []yamlLine) {
	n := &yamlNode{}
	if len(lines) == 0 {
		return n, nil
	}
	indent := lines[0].indent
	for len(lines) > 0 && lines[0].indent == indent {
		l := lines[0]
		lines = lines[1:]
		if item, ok := strings.CutPrefix(l.text, "- "); ok {
			n.items = append(n.items, &yamlNode{scalar: unquote(item)})
			continue
		}
		key, val, _ := strings.Cut(l.text, ":")
		if n.keys == nil {
			n.keys = map[string]*yamlNode{}
		}
		if val = strings.TrimSpace(val); val != "" {
			n.keys[unquote(key)] = &yamlNode{scalar: unquote(val)}
			continue
		}
		child := &yamlNode{}
		if len(lines) > 0 && lines[0].indent > indent {
			child, lines = parseBlock(lines)
		}
		n.keys[unquote(key)] = child
	}
	return n, lines
}

func TestComposeAndCaddyfileAgree(t *testing.T) {
	compose := parseYAML(t, "../../deploy/docker-compose.yml")
	services := compose.get("services")
	bot, caddy := services.get("bansosbot"), services.get("caddy")
	if bot == nil || caddy == nil {
		t.Fatalf("services bansosbot and caddy expected; got %v", services)
	}
	env := bot.get("environment")
	hook, err := url.Parse(env.get("BANSOSBOT_WEBHOOK_URL").scalar)
	if err != nil {
		t.Fatal(err)
	}
	listen := env.get("BANSOSBOT_WEBHOOK_LISTEN")
	if listen == nil {
		t.Fatal("bansosbot: BANSOSBOT_WEBHOOK_LISTEN not set (the default 127.0.0.1 is unreachable from Caddy's container)")
	}
	host, port, _ := net.SplitHostPort(listen.scalar)
	if host == "127.0.0.1" || host == "localhost" {
		t.Errorf("bansosbot listens on %s: unreachable from another container", listen.scalar)
	}

	raw, err := os.ReadFile("../../deploy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	caddyfile := string(raw)
	m := regexp.MustCompile(`reverse_proxy\s+(\S+)`).FindStringSubmatch(caddyfile)
	if m == nil {
		t.Fatal("Caddyfile: no reverse_proxy")
	}
	upHost, upPort, err := net.SplitHostPort(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if services.get(upHost) == nil {
		t.Errorf("Caddyfile proxies to %q, not a compose service", upHost)
	}
	if upPort != port {
		t.Errorf("Caddyfile proxies to port %s; bansosbot listens on %s", upPort, port)
	}
	if !strings.Contains(caddyfile, "path "+hook.Path+"\n") {
		t.Errorf("Caddyfile does not match the webhook path %s", hook.Path)
	}
	if !strings.HasPrefix(caddyfile, hook.Host+" {") {
		t.Errorf("Caddyfile's site is not %s", hook.Host)
	}
	for _, v := range regexp.MustCompile(`\{env\.(\w+)\}`).FindAllStringSubmatch(caddyfile, -1) {
		if caddy.get("environment", v[1]) == nil {
			t.Errorf("Caddyfile reads {env.%s}, which the compose file does not pass to caddy", v[1])
			continue
		}
		if v[1] == "BANSOSBOT_WEBHOOK_SECRET" && caddy.get("environment", v[1]).scalar != env.get(v[1]).scalar {
			t.Errorf("caddy and bansosbot get different webhook secrets")
		}
	}
	if !strings.Contains(caddyfile, "X-Telegram-Bot-Api-Secret-Token {env.BANSOSBOT_WEBHOOK_SECRET}") {
		t.Error("Caddyfile does not check the webhook secret")
	}
	mounted := false
	for _, v := range caddy.get("volumes").items {
		mounted = mounted || strings.HasPrefix(v.scalar, "./Caddyfile:/etc/caddy/Caddyfile")
	}
	if !mounted {
		t.Error("compose does not mount ./Caddyfile into caddy")
	}
}

func TestUnitDocumentationExists(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/bansosbot.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	m := regexp.MustCompile(`(?m)^Documentation=file://(\S+)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("no Documentation=file:// line")
	}
	installed := m[1]
	name := installed[strings.LastIndex(installed, "/")+1:]
	if _, err := os.Stat("../../docs/" + name); err != nil {
		t.Errorf("Documentation=%s: docs/%s is not in the repository", installed, name)
	}
	install := "install -D -m 0644 docs/" + name + " " + installed
	ops, _ := os.ReadFile("../../docs/OPERATIONS.md")
	if !strings.Contains(unit, install) || !strings.Contains(string(ops), install) {
		t.Errorf("neither the unit's header nor OPERATIONS.md installs it: want %q", install)
	}
}

func TestGoVersionAgrees(t *testing.T) {
	mod, _ := os.ReadFile("../../go.mod")
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(\.\d+)?)$`).FindStringSubmatch(string(mod))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	goVersion := m[1]
	docker, _ := os.ReadFile("../../Dockerfile")
	b := regexp.MustCompile(`(?m)^FROM golang:(\S+?)(-\S+)? AS build$`).FindStringSubmatch(string(docker))
	if b == nil {
		t.Fatal("Dockerfile: no FROM golang:... AS build")
	}
	if !versionAtLeast(b[1], goVersion) {
		t.Errorf("Dockerfile builds with golang:%s; go.mod needs %s", b[1], goVersion)
	}
	readme, _ := os.ReadFile("../../README.md")
	if !strings.Contains(string(readme), "Go "+goVersion+" or newer") {
		t.Errorf("README does not state the minimum Go %s", goVersion)
	}
}

// versionAtLeast compares dotted versions; a missing part of have
// ("1.26" as a Docker tag) means its newest release.
func versionAtLeast(have, need string) bool {
	h, n := strings.Split(have, "."), strings.Split(need, ".")
	for i := range n {
		if i >= len(h) {
			return true
		}
		if h[i] != n[i] {
			return len(h[i]) > len(n[i]) || len(h[i]) == len(n[i]) && h[i] > n[i]
		}
	}
	return true
}

// TestHealthCommand: "bansosbot health" (the Dockerfile's HEALTHCHECK,
// distroless has no curl) asks /healthz of the listener BANSOSBOT_HTTP
// names, also when it listens on all interfaces.
func TestHealthCommand(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	_, port, _ := net.SplitHostPort(freePort(t))
	cfg.HTTP = "0.0.0.0:" + port
	m := e.start(cfg)
	env := envOf(map[string]string{"BANSOSBOT_HTTP": cfg.HTTP})
	out, err := cli(t, env, "health")
	if err != nil || !strings.Contains(out, "ok") {
		t.Errorf("health of a running bot: %v %q", err, out)
	}
	m.Close()
	if out, err := cli(t, env, "health"); err == nil {
		t.Errorf("health of a stopped bot succeeded: %q", out)
	}
	if _, err := cli(t, envOf(nil), "health"); err == nil || !strings.Contains(err.Error(), "BANSOSBOT_HTTP") {
		t.Errorf("health without a listener: %v; want it to name BANSOSBOT_HTTP", err)
	}
	docker, _ := os.ReadFile("../../Dockerfile")
	if !regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD \["/usr/local/bin/bansosbot", "health"\]$`).Match(docker) {
		t.Error("the Dockerfile has no HEALTHCHECK running bansosbot health")
	}
}

// TestShippedFilesKeepTheSecretOutsideData: the unit passes the secret as
// the systemd credential bansosbot reads, and compose as a secret file
// named by BANSOSBOT_SECRET_FILE, both outside the data directory (issue 10
// item 16).
func TestShippedFilesKeepTheSecretOutsideData(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/bansosbot.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^LoadCredential=([^:\n]+):(\S+)$`).FindStringSubmatch(string(raw))
	if m == nil || m[1] != credentialName || strings.HasPrefix(m[2], "/var/lib/bansosbot") {
		t.Errorf("unit: LoadCredential = %q; want %s from a file outside the state directory", m, credentialName)
	}
	compose := parseYAML(t, "../../deploy/docker-compose.yml")
	bot := compose.get("services", "bansosbot")
	file := bot.get("environment", "BANSOSBOT_SECRET_FILE")
	if file == nil {
		t.Fatal("compose: bansosbot has no BANSOSBOT_SECRET_FILE")
	}
	name, ok := strings.CutPrefix(file.scalar, "/run/secrets/")
	if !ok {
		t.Fatalf("compose: BANSOSBOT_SECRET_FILE=%s; want a compose secret under /run/secrets", file.scalar)
	}
	granted := false
	for _, s := range bot.get("secrets").items {
		granted = granted || s.scalar == name
	}
	if !granted || compose.get("secrets", name, "file") == nil {
		t.Errorf("compose: the secret %s is not defined at the top level with a file and granted to bansosbot", name)
	}
	for _, v := range bot.get("volumes").items {
		if strings.HasSuffix(strings.TrimSpace(v.scalar), ":/data") && strings.HasPrefix(file.scalar, "/data") {
			t.Errorf("compose: the secret file %s is in the data volume", file.scalar)
		}
	}
}
