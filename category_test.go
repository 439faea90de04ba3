package bansosbot

import (
	"strings"
	"testing"
)

func TestDefaultCategories(t *testing.T) {
	cs := DefaultCategories()
	for _, want := range []struct {
		code, prompt string
		fields       []string
	}{
		{"PBI_REACTIVATION", "pbi", nil},
	} {
		c, ok := cs.Get(want.code)
		if !ok {
			t.Errorf("category %s missing", want.code)
			continue
		}
		if c.Prompt != want.prompt {
			t.Errorf("%s: prompt %q; want %q", want.code, c.Prompt, want.prompt)
		}
		for _, f := range want.fields {
			if !c.Asks(f) {
				t.Errorf("%s does not ask %s", want.code, f)
			}
		}
	}
}

func TestLoadCategoriesRefuses(t *testing.T) {
	names := `"names": {"id": "x", "en": "x"}`
	for _, tc := range []struct{ json, want string }{
		{`[{"code": "A", ` + names + `, "fields": ["shoe_size"]}]`, `unknown field "shoe_size"`},
		{`[{"code": "A", ` + names + `, "prompt": "poem"}]`, `unknown prompt "poem"`},
		{`[{"code": "A", ` + names + `}, {"code": "A", ` + names + `}]`, "appears twice"},
		{`[{"code": "A", "names": {"id": "x"}}]`, `no name in "en"`},
	} {
		_, err := LoadCategories(strings.NewReader(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadCategories(%s): err = %v; want %q", tc.json, err, tc.want)
		}
	}
	cs, err := LoadCategories(strings.NewReader(`[{"code": "A", ` + names + `, "prompt": "usul", "fields": ["proposed", "household"]}]`))
	if err != nil || cs[0].Prompt != "usul" || !cs[0].Asks(FieldHousehold) {
		t.Errorf("a valid file: %+v, %v", cs, err)
	}
}
