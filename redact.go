package bansosbot

import (
	"regexp"
	"strings"
)

// Free text that leaves the bot (exports, Open311) carries what citizens
// and workers typed: NIKs (RedactNIKs), and phone numbers, e-mail
// addresses and account or card numbers (RedactContacts). Names cannot be
// found reliably in free text and are not masked.

// emailPattern is an e-mail address as people type it.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// Digit runs (with single spaces, dots, dashes or parentheses between
// groups, and an optional leading "+") that are masked:
const (
	// phoneDigits: a run starting with 0, 62 or +62 this long is a phone
	// number ("0812-3456-7890", "+62 812 3456 7890", "(0251) 832 1123").
	phoneDigits = 9
	// longDigits: any other run this long is an account, card or
	// membership number (bank account, BPJS card); amounts and dates are
	// shorter.
	longDigits = 10
)

// RedactContacts replaces e-mail addresses by "[EMAIL]", phone numbers by
// "[PHONE]" and other runs of 10 or more digits by "[NUMBER]". Run it after
// RedactNIKs (NIK-length runs are already "[NIK]"). Amounts ("Rp
// 1.500.000"), dates and short numbers stay.
func RedactContacts(s string) string {
	s = emailPattern.ReplaceAllString(s, "[EMAIL]")
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i // a run may open with "+" or "("
		if (s[j] == '+' || s[j] == '(') && j+1 < len(s) && isDigit(s[j+1]) {
			j++
		}
		if !isDigit(s[j]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		digits, end, start := "", j, j
		for j < len(s) {
			if isDigit(s[j]) {
				digits += s[j : j+1]
				j++
				end = j
				continue
			}
			// One separator between digit groups; ") " closes an area code.
			k := j + 1
			if s[j] == ')' && k < len(s) && s[k] == ' ' {
				k++
			}
			if strings.IndexByte(" .-()", s[j]) < 0 || k >= len(s) || !isDigit(s[k]) {
				break
			}
			j = k
		}
		if pd, pend := phoneRun(s, start); len(pd) > len(digits) {
			// Groups apart by more than one character ("0812 - 3456 - 7890",
			// "0812  3456  7890", "(0251)/832 1123") are one phone number
			// only; any other loose run stays as the groups it is made of.
			digits, end = pd, pend
		}
		switch {
		case len(digits) >= phoneDigits && (strings.HasPrefix(digits, "0") || strings.HasPrefix(digits, "62")):
			b.WriteString("[PHONE]")
		case len(digits) >= longDigits:
			b.WriteString("[NUMBER]")
		default:
			b.WriteString(s[i:end])
		}
		i = end
	}
	return b.String()
}

// phoneRun reads a run of digit groups from s[j] (a digit) with up to
// three separators (" .-()/") between groups and returns its digits and
// end, when they make a phone number (0 or 62 first, phoneDigits to 15
// digits); otherwise nothing.
func phoneRun(s string, j int) (digits string, end int) {
	var d strings.Builder
	for j < len(s) {
		if isDigit(s[j]) {
			d.WriteByte(s[j])
			j++
			end = j
			continue
		}
		k := j
		for k < len(s) && k-j < 3 && strings.IndexByte(" .-()/", s[k]) >= 0 {
			k++
		}
		if k == j || k >= len(s) || !isDigit(s[k]) {
			break
		}
		j = k
	}
	ds := d.String()
	if len(ds) < phoneDigits || len(ds) > 15 || !(strings.HasPrefix(ds, "0") || strings.HasPrefix(ds, "62")) {
		return "", 0
	}
	return ds, end
}
