package bansosbot

import (
	"strings"
	"testing"
)

// TestDefaultAnswers: the embedded answers load, cover what issue 11 item
// 9 names, and say where to go when a citizen disagrees.
func TestDefaultAnswers(t *testing.T) {
	as := DefaultAnswers()
	for id, words := range map[string][]string{
		"pay":     {"tahap", "Rp200.000", "PBI-JK"},
		"require": {"DTSEN", "desil"},
		"free":    {"gratis", "tidak boleh dipotong"},
		"lapor":   {"SP4N-LAPOR!", "137"},
	} {
		a, ok := as.Get(id)
		if !ok {
			t.Errorf("answer %s missing", id)
			continue
		}
		for _, w := range words {
			if !strings.Contains(a.Texts["id"], w) {
				t.Errorf("answer %s (id) does not say %q", id, w)
			}
		}
	}
	if !strings.Contains(as.Disagree["id"], "137") || !strings.Contains(as.Disagree["en"], "SP4N-LAPOR!") {
		t.Errorf("disagree = %v; want SP4N-LAPOR! and the Ombudsman's 137", as.Disagree)
	}
}

func TestLoadAnswersRefuses(t *testing.T) {
	ok := `"titles": {"id": "a", "en": "a"}, "texts": {"id": "b", "en": "b"}`
	for _, tc := range []struct{ json, want string }{
		{`{"answers": [{"id": "Pay Now", ` + ok + `}]}`, `id "Pay Now"`},
		{`{"answers": [{"id": "a", ` + ok + `}, {"id": "a", ` + ok + `}]}`, "appears twice"},
		{`{"answers": [{"id": "a", "titles": {"id": "a"}, "texts": {"id": "b", "en": "b"}}]}`, `no title or text in "en"`},
		{`{"answers": [{"id": "a", "titles": {"id": "` + strings.Repeat("x", 61) + `", "en": "a"}, "texts": {"id": "b", "en": "b"}}]}`, "longer than 60"},
		{`{"disagree": {"id": "x"}, "answers": []}`, `disagree needs a text in "en"`},
		{`{"answers": [], "extra": 1}`, "unknown field"},
	} {
		if _, err := LoadAnswers(strings.NewReader(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadAnswers(%s): err = %v; want %q", tc.json, err, tc.want)
		}
	}
}
