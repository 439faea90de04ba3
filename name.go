package bansosbot

import (
	"strings"
	"unicode/utf8"
)

// FoldName is the form in which a person's name is compared in a status
// check: the registry import keeps the keyed hash of FoldName(name) and a
// lookup hashes FoldName of the typed name the same way (see Hasher.Name),
// so both sides must call this one function.
//
// Citizens type their name as they say it, not always as Dukcapil spelled
// it on the KTP. FoldName forgives what is a matter of spelling, never a
// different name:
//
//  1. NormalizeName: lower case, apostrophes dropped, any other punctuation
//     a space ("SITI NUR'AINI" = "siti nuraini").
//  2. In each word, the old (pre-1972) spellings become the current ones:
//     oe→u, dj→j, tj→c, sj→sy, nj→ny ("Soekarno" = "Sukarno", "Djoko" =
//     "Joko"); ch and kh become h ("Achmad" = "Ahmad", "Chairul" =
//     "Khairul" = "Hairul"); ph becomes f ("Sophia" = "Sofia"); a doubled
//     letter counts once ("Abdullah" = "Abdulah", "Muhammad" = "Muhamad").
//     These repeat until nothing changes.
//  3. The spellings and the written abbreviations of Muhammad (Mohammad,
//     Mochamad, Muhammed, Moh., Moch., Muh., Mhd., ...) are one word. A bare
//     initial ("M. Rizki") is not: it could stand for any name.
//  4. Spaces are dropped ("Nur Aini" = "Nuraini", "Abdul Rahman" =
//     "Abdulrahman"), and step 2 runs once more over the joined name.
//
// Anything else still differs: another letter ("Lestari"/"Lestary"), a
// missing or extra word, j for y ("Joko"/"Yoko"). FoldName is idempotent
// (folding a folded name changes nothing), which the fuzz test checks.
//
// Changing FoldName changes every verifier: a registry imported before the
// change no longer matches names the change affects until it is imported
// again. Record.MatchesName also accepts the verifiers of the plain
// NormalizeName form, which registries imported before FoldName existed
// hold.
func FoldName(s string) string {
	words := strings.Fields(normalizeName(s))
	for i, w := range words {
		words[i] = foldWord(w)
	}
	return foldWord(strings.Join(words, ""))
}

// spellings replaces old spellings and variants inside a word, in order.
var spellings = strings.NewReplacer(
	"oe", "u", "dj", "j", "tj", "c", "sj", "sy", "nj", "ny",
	"ch", "h", "kh", "h", "ph", "f",
)

// muhammad lists the forms the spellings and abbreviations of Muhammad
// take after spellings and single letters (mochammad → mohamad,
// muhammed → muhamed, moch → moh); each stands for "muhamad".
var muhammad = map[string]bool{
	"mohamad": true, "mohamed": true, "muhamed": true, "mohamat": true, "muhamat": true,
	"moh": true, "muh": true, "mhd": true, "mohd": true, "muhd": true,
}

// foldWord applies steps 2 and 3 of FoldName to one word.
func foldWord(w string) string {
	for {
		next := singleLetters(spellings.Replace(w))
		if next == w {
			break
		}
		w = next
	}
	if muhammad[w] {
		return "muhamad"
	}
	return w
}

// singleLetters drops every letter that repeats the one before it.
func singleLetters(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prev := utf8.RuneError
	for _, r := range s {
		if r != prev {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}
