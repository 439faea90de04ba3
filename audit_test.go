package bansosbot

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestInviteCode(t *testing.T) {
	code, err := NewInviteCode(bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 7, 8}))
	if err != nil || len(code) != InviteCodeLen || strings.Trim(code, TicketAlphabet) != "" {
		t.Fatalf("NewInviteCode = %q, %v; want %d characters of TicketAlphabet", code, err, InviteCodeLen)
	}
	if _, err := NewInviteCode(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("a short random source gave a code")
	}
	shown := FormatInviteCode(code)
	for _, typed := range []string{code, shown, strings.ToLower(shown), " " + strings.ToLower(code[:4]) + " " + code[4:] + " "} {
		if got, ok := NormalizeInviteCode(typed); !ok || got != code {
			t.Errorf("NormalizeInviteCode(%q) = %q, %v; want %q", typed, got, ok, code)
		}
	}
	for _, bad := range []string{"", "ABC", code + "2", "0OIL" + code[4:], "ABCD-EFG!"} {
		if got, ok := NormalizeInviteCode(bad); ok {
			t.Errorf("NormalizeInviteCode(%q) = %q; want refused", bad, got)
		}
	}
	k := []byte("key")
	if HashInviteCode(k, code) == HashInviteCode(k, code[:7]+"2") || strings.Contains(HashInviteCode(k, code), code) {
		t.Error("the code hash does not hide or distinguish codes")
	}
	if HashInviteCode(k, code) == HashInviteCode([]byte("other key"), code) {
		t.Error("the code hash does not depend on the key")
	}
	if inv := (&Invite{CodeHash: HashInviteCode(k, code)}); !inv.Keyed() {
		t.Error("a keyed hash is not recognised as keyed")
	}
}

func TestInviteCheck(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	inv := &Invite{ExpiresAt: now.Add(time.Hour)}
	if err := inv.Check(now); err != nil {
		t.Errorf("fresh invite: %v", err)
	}
	if err := inv.Check(now.Add(time.Hour)); ErrorKey(err) != "staff.invite_expired" {
		t.Errorf("at expiry: %v; want staff.invite_expired", err)
	}
	inv.UsedBy = 42
	if err := inv.Check(now); ErrorKey(err) != "staff.invite_used" {
		t.Errorf("used: %v; want staff.invite_used", err)
	}
}

func FuzzNormalizeInviteCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH", "abcd efgh", "2345678", "0OIL0OIL", "ÄBCD-EFGH", "  a-b-c-d-e-f-g-h  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := NormalizeInviteCode(s)
		if !ok {
			return
		}
		if len(code) != InviteCodeLen || strings.Trim(code, TicketAlphabet) != "" {
			t.Fatalf("NormalizeInviteCode(%q) = %q: not %d characters of the alphabet", s, code, InviteCodeLen)
		}
		if again, ok := NormalizeInviteCode(FormatInviteCode(code)); !ok || again != code {
			t.Fatalf("the formatted code %q does not read back as %q", FormatInviteCode(code), code)
		}
	})
}
