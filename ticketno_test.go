package bansosbot

import (
	"math/rand/v2"
	"strings"
	"testing"
)

var testTicketKey = []byte("test key, not a secret")

func TestTicketAlphabet(t *testing.T) {
	if len(TicketAlphabet) != 31 {
		t.Fatalf("alphabet has %d characters; want 31", len(TicketAlphabet))
	}
	if strings.ContainsAny(TicketAlphabet, "01OIL") {
		t.Errorf("alphabet %q contains an ambiguous character", TicketAlphabet)
	}
	seen := map[rune]bool{}
	for _, c := range TicketAlphabet {
		if seen[c] {
			t.Errorf("alphabet repeats %q", c)
		}
		seen[c] = true
	}
}

func TestNewTicketNoUnique(t *testing.T) {
	const n = 200_000
	seen := make(map[TicketNo]uint64, n)
	var sequential int
	prev := TicketNo("")
	for seq := uint64(0); seq < n; seq++ {
		no := NewTicketNo(seq, testTicketKey)
		if len(no) != 10 || !strings.HasPrefix(string(no), TicketPrefix) {
			t.Fatalf("NewTicketNo(%d) = %q; want BS- and 7 characters", seq, no)
		}
		if old, dup := seen[no]; dup {
			t.Fatalf("NewTicketNo(%d) = %q, same as for %d", seq, no, old)
		}
		seen[no] = seq
		if prev != "" && no[3:7] == prev[3:7] {
			sequential++
		}
		prev = no
	}
	// Consecutive numbers should look unrelated: sharing the first four
	// characters happens by chance about n/31^4 times.
	if sequential > 10 {
		t.Errorf("%d consecutive numbers share their first 4 characters; want few", sequential)
	}
}

func TestTicketNoRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seqs := []uint64{0, 1, 2, 199_999, TicketNoCapacity - 1, TicketNoCapacity / 2}
	for range 1000 {
		seqs = append(seqs, r.Uint64N(TicketNoCapacity))
	}
	seen := map[TicketNo]uint64{}
	for _, seq := range seqs {
		no := NewTicketNo(seq, testTicketKey)
		if old, dup := seen[no]; dup && old != seq {
			t.Fatalf("NewTicketNo(%d) = NewTicketNo(%d) = %q", seq, old, no)
		}
		seen[no] = seq
		parsed, err := ParseTicketNo(string(no))
		if err != nil || parsed != no {
			t.Fatalf("ParseTicketNo(%q) = %q, %v; want itself", no, parsed, err)
		}
		got, ok := no.Seq(testTicketKey)
		if !ok || got != seq {
			t.Fatalf("%q.Seq() = %d, %v; want %d", no, got, ok, seq)
		}
		if other, _ := no.Seq([]byte("another key")); other == seq && seq > 2 {
			t.Errorf("%q.Seq(other key) = %d; want a different number", no, other)
		}
	}
	if a, b := NewTicketNo(5, testTicketKey), NewTicketNo(5, []byte("another key")); a == b {
		t.Errorf("different keys give the same number %q", a)
	}
	if a, b := NewTicketNo(7, testTicketKey), NewTicketNo(7+TicketNoCapacity, testTicketKey); a != b {
		t.Errorf("seq beyond capacity: %q; want %q (modulo)", b, a)
	}
	if _, ok := TicketNo("BS-2222222").Seq(testTicketKey); !ok {
		t.Errorf("Seq of a valid number failed")
	}
	if _, ok := TicketNo("2222222").Seq(testTicketKey); ok {
		t.Errorf("Seq of a non-canonical number succeeded")
	}
}

func TestParseTicketNo(t *testing.T) {
	no := NewTicketNo(12345, testTicketKey)
	body := string(no[3:])
	lower := strings.ToLower(string(no))
	tests := []struct {
		in   string
		want TicketNo
	}{
		{string(no), no},
		{lower, no},
		{body, no},
		{strings.ToLower(body), no},
		{" " + body[:3] + " " + body[3:] + " ", no},
		{"BS " + body, no},
		{"bs" + body, no},
		{"  BS - " + body + "\t", no},
		{"BS-2222222", "BS-2222222"}, // all-zero digits, check 0
		{"", ""},
		{"BS-", ""},
		{body[:6], ""},
		{body + "2", ""},
		{"BS-" + body[:6], ""},
		{"XY-" + body, ""},
		{"BS-" + body + "!", ""},
		{"BS-" + body[:2] + "0" + body[3:], ""},
		{"BS-" + body[:2] + "O" + body[3:], ""},
		{"BS-" + body[:2] + "1" + body[3:], ""},
		{"BS-" + body[:2] + "I" + body[3:], ""},
		{"BS-" + body[:2] + "L" + body[3:], ""},
		{"BS-" + body[:2] + "é" + body[4:], ""},
		{strings.Repeat("2", 100), ""},
	}
	for _, tt := range tests {
		got, err := ParseTicketNo(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseTicketNo(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || ErrorKey(err) != "ticket.bad_number" || ErrorCode(err) != EInvalid {
			t.Errorf("ParseTicketNo(%q) = %q, %v; want error ticket.bad_number", tt.in, got, err)
		}
	}
}

// Every single-character substitution and every swap of neighbouring
// distinct characters of a valid number is rejected.
func TestTicketNoDetectsTypos(t *testing.T) {
	for seq := uint64(0); seq < 300; seq++ {
		no := string(NewTicketNo(seq*7919, testTicketKey))
		for i := 3; i < len(no); i++ {
			for _, c := range []byte(TicketAlphabet) {
				if c == no[i] {
					continue
				}
				typo := no[:i] + string(c) + no[i+1:]
				if _, err := ParseTicketNo(typo); err == nil {
					t.Fatalf("typo %q of %q accepted", typo, no)
				}
			}
			if i+1 < len(no) && no[i] != no[i+1] {
				swap := no[:i] + string(no[i+1]) + string(no[i]) + no[i+2:]
				if _, err := ParseTicketNo(swap); err == nil {
					t.Fatalf("swap %q of %q accepted", swap, no)
				}
			}
		}
	}
}

func FuzzParseTicketNo(f *testing.F) {
	for _, s := range []string{"BS-2222222", "bs-7k3m9qx", "7K3 M9QX", "", "BS-", "BS-0000000", "ＢＳ-2222222", "BSBS22222"} {
		f.Add(s)
	}
	f.Add(string(NewTicketNo(42, testTicketKey)))
	f.Fuzz(func(t *testing.T, s string) {
		no, err := ParseTicketNo(s)
		if err != nil {
			if no != "" || ErrorKey(err) != "ticket.bad_number" {
				t.Fatalf("ParseTicketNo(%q) = %q, %v", s, no, err)
			}
			return
		}
		if len(no) != 10 || !strings.HasPrefix(string(no), TicketPrefix) {
			t.Fatalf("ParseTicketNo(%q) = %q; want canonical form", s, no)
		}
		for _, c := range []byte(no[3:]) {
			if strings.IndexByte(TicketAlphabet, c) < 0 {
				t.Fatalf("ParseTicketNo(%q) = %q has %q", s, no, c)
			}
		}
		again, err := ParseTicketNo(string(no))
		if err != nil || again != no {
			t.Fatalf("ParseTicketNo(%q) = %q, %v; want itself", no, again, err)
		}
		seq, ok := no.Seq(testTicketKey)
		if !ok || seq >= TicketNoCapacity || NewTicketNo(seq, testTicketKey) != no {
			t.Fatalf("%q.Seq() = %d, %v does not map back", no, seq, ok)
		}
	})
}

func BenchmarkNewTicketNo(b *testing.B) {
	var seq uint64
	for b.Loop() {
		NewTicketNo(seq, testTicketKey)
		seq++
	}
}
