package bansosbot

import "testing"

// TestFoldName is the table of the name comparison of a status check:
// each group folds to one form, and the pairs after it must stay apart.
func TestFoldName(t *testing.T) {
	same := []struct {
		why   string
		names []string
	}{
		{"case, spaces, punctuation", []string{"Siti Nur'aini", "SITI NURAINI", " siti  nuraini ", "Siti Nur’aini", "SITI\tNURAINI", "Siti Nur Aini", "siti-nur.aini"}},
		{"Muhammad and its spellings", []string{"Muhammad Rizki", "Muhamad Rizki", "Mohammad Rizki", "Mohamad Rizki", "Mochammad Rizki", "Muchamad Rizki", "Mohammed Rizki", "MUHAMMAD RIZKI", "Moh. Rizki", "Muh Rizki", "Mhd. Rizki", "Moch. Rizki"}},
		{"doubled letters", []string{"Abdullah", "Abdulah", "Abdul Lah"}},
		{"old spelling oe/dj/tj/sj/nj", []string{"Soekarno Djojo", "Sukarno Jojo"}},
		{"old spelling tj", []string{"Tjahaja", "Cahaja"}},
		{"old spelling sj, nj", []string{"Sjamsul Njoman", "Syamsul Nyoman"}},
		{"ch/kh/h", []string{"Achmad Chairul", "Ahmad Khairul", "Akhmad Hairul"}},
		{"ph/f", []string{"Sophia", "Sofia"}},
		{"Muhammad inside a name", []string{"Nur Muhammad", "Nur Mohamad"}},
	}
	for _, g := range same {
		want := FoldName(g.names[0])
		for _, s := range g.names[1:] {
			if got := FoldName(s); got != want {
				t.Errorf("%s: FoldName(%q) = %q; want %q like %q", g.why, s, got, want, g.names[0])
			}
		}
	}
	apart := [][2]string{
		{"Wawan Lestari", "Wawan Lestary"}, // a different letter is a different name
		{"Wawan Lestari", "Wawan"},         // a missing word too
		{"Siti Aminah", "Siti Aminah Putri"},
		{"Muhammad Rizki", "Rizki"},        // the first name counts
		{"Muhammad Rizki", "M. Rizki"},     // a bare initial could be any name
		{"Muhammad Rizki", "Mahmud Rizki"}, // not a spelling of Muhammad
		{"Joko", "Yoko"},
		{"Dewi", "Dewa"},
	}
	for _, p := range apart {
		if FoldName(p[0]) == FoldName(p[1]) {
			t.Errorf("FoldName(%q) == FoldName(%q) = %q; want them apart", p[0], p[1], FoldName(p[0]))
		}
	}
	for _, s := range []string{"", "  ", "--", "'"} {
		if got := FoldName(s); got != "" {
			t.Errorf("FoldName(%q) = %q; want empty", s, got)
		}
	}
}

// TestFoldNameIdempotent: folding a folded name changes nothing, so a
// name folded at import and folded again at lookup still matches.
func TestFoldNameIdempotent(t *testing.T) {
	for _, s := range []string{"Muhammad Rizki", "Soekarno Djojo", "Achmad Chairul", "Tjahaja Sjamsul Njoman", "Abdullah", "Sophia", "Élodie Ñúñez", "moch", "ooee", "cchh"} {
		f := FoldName(s)
		if g := FoldName(f); g != f {
			t.Errorf("FoldName(FoldName(%q)) = %q; want %q", s, g, f)
		}
	}
}

func FuzzFoldName(f *testing.F) {
	for _, s := range []string{"Muhammad Rizki", "Soekarno", "Nur'aini", "", "ÉLODIE", "a\u0301", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := FoldName(s)
		if FoldName(got) != got {
			t.Errorf("FoldName not idempotent on %q: %q then %q", s, got, FoldName(got))
		}
		if FoldName(NormalizeName(s)) != got {
			t.Errorf("FoldName(%q) = %q differs from FoldName(NormalizeName) = %q", s, got, FoldName(NormalizeName(s)))
		}
	})
}
