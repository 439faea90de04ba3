// Package locales holds every user-facing text of bansosbot as message
// catalogs (catalog/<feature>.<lang>.toml, embedded) and looks them up with
// github.com/nicksnyder/go-i18n: CLDR plural rules, Go templates for
// arguments, and fallback to Indonesian for a key missing in a language.
//
// Keys are dotted ("consent.prompt"). Every key exists in every language;
// tests enforce it, and that every key used in the code exists.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed catalog/*.toml
var files embed.FS

// Default is the default and fallback language.
const Default = "id"

// Catalog looks up messages.
type Catalog struct {
	bundle     *i18n.Bundle
	langs      []string
	keys       map[string]map[string]bool // lang -> key set
	mu         sync.Mutex
	localizers map[string]*i18n.Localizer
}

// Load parses the embedded catalogs.
func Load() (*Catalog, error) { return LoadFS(files, "catalog") }

var defaultCatalog = sync.OnceValues(Load)

// MustDefault returns the embedded catalog, parsed once; it panics if the
// embedded files are broken (a build-time mistake caught by the tests).
func MustDefault() *Catalog {
	c, err := defaultCatalog()
	if err != nil {
		panic(err)
	}
	return c
}

// LoadFS parses every *.toml file of dir in fsys. File names end in
// .<lang>.toml.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	b := i18n.NewBundle(language.Indonesian)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{bundle: b, keys: map[string]map[string]bool{}, localizers: map[string]*i18n.Localizer{}}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		raw, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("locales: %w", err)
		}
		mf, err := b.ParseMessageFileBytes(raw, e.Name())
		if err != nil {
			return nil, fmt.Errorf("locales: %s: %w", e.Name(), err)
		}
		lang := mf.Tag.String()
		if c.keys[lang] == nil {
			c.keys[lang] = map[string]bool{}
			c.langs = append(c.langs, lang)
		}
		for _, m := range mf.Messages {
			if c.keys[lang][m.ID] {
				return nil, fmt.Errorf("locales: %s: key %s defined twice for %s", e.Name(), m.ID, lang)
			}
			c.keys[lang][m.ID] = true
		}
	}
	sort.Strings(c.langs)
	return c, nil
}

// Languages lists the languages with at least one message.
func (c *Catalog) Languages() []string { return c.langs }

// Keys returns the sorted keys defined for lang.
func (c *Catalog) Keys(lang string) []string {
	out := make([]string, 0, len(c.keys[lang]))
	for k := range c.keys[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Has reports whether key exists in lang.
func (c *Catalog) Has(lang, key string) bool { return c.keys[lang][key] }

func (c *Catalog) localizer(lang string) *i18n.Localizer {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.localizers[lang]
	if !ok {
		l = i18n.NewLocalizer(c.bundle, lang, Default)
		c.localizers[lang] = l
	}
	return l
}

// Text renders key in lang with args as template data. An argument named
// Count selects the plural form of a message that has plural forms
// (one/other). Argument values are used as given: escape
// them for the output format first. A missing key renders as the key itself
// in brackets (and is caught by the tests), so a user never sees nothing.
func (c *Catalog) Text(lang, key string, args map[string]any) string {
	cfg := &i18n.LocalizeConfig{MessageID: key, TemplateData: args}
	if n, ok := args["Count"]; ok {
		cfg.PluralCount = n
	}
	l := c.localizer(lang)
	s, err := l.Localize(cfg)
	if err != nil && cfg.PluralCount != nil {
		// A message without plural forms may still take a Count argument.
		cfg.PluralCount = nil
		s, err = l.Localize(cfg)
	}
	if err != nil {
		return "[" + key + "]"
	}
	return s
}
