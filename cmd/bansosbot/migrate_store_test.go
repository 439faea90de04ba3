package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
)

// fillEveryKind writes one or more records of every kind the store keeps.
func fillEveryKind(t *testing.T, db *store.DB) {
	t.Helper()
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	if _, err := db.Accept([]store.InboxItem{{UpdateID: 1, ChatID: 5, Update: json.RawMessage(`{"update_id":1}`)}, {UpdateID: 2, ChatID: 5, Update: json.RawMessage(`{}`)}}, 3); err != nil {
		t.Fatal(err)
	}
	err := db.Update(func(tx *store.Tx) error {
		steps := []func() error{
			func() error { return tx.MarkProcessed(1) },
			func() error { return tx.PutProfile(&bansosbot.Profile{UserID: 5, Lang: "id"}) },
			func() error { return tx.PutSession(&bansosbot.Session{UserID: 5, Flow: "rp", State: "desc"}) },
			func() error { _, _, err := tx.Allow("msg:5", 10, time.Minute, at); return err },
			func() error {
				_, err := tx.Enqueue(store.OutboxItem{ChatID: 5, Payload: json.RawMessage(`{"text":"x"}`)})
				return err
			},
			func() error {
				return tx.ParkUpdate(store.InboxItem{UpdateID: 9, ChatID: 5, Update: json.RawMessage(`{}`)}, "panic")
			},
			func() error {
				return tx.PutStaff(&bansosbot.Staff{UserID: 7, Name: "W", Role: bansosbot.RoleWorker, Active: true})
			},
			func() error {
				return tx.PutInvite(&bansosbot.Invite{CodeHash: bansosbot.HashInviteCode(nil, "A"), Role: bansosbot.RoleWorker, ExpiresAt: at.Add(time.Hour)})
			},
			func() error {
				return tx.AppendAudit(&bansosbot.AuditEntry{Actor: 7, Action: bansosbot.AuditView, TicketID: 1, Allowed: true})
			},
			func() error { return tx.AddStat("lookup/answered", 3) },
			func() error {
				return tx.PutSubscription(&bansosbot.Subscription{UserID: 5, Lang: "id", Regions: []bansosbot.RegionCode{"32.01"}, ConsentAt: at})
			},
			func() error {
				id, err := tx.NextAnnouncementSeq()
				if err != nil {
					return err
				}
				if err := tx.PutAnnouncement(&bansosbot.Announcement{ID: id, CreatedAt: at}); err != nil {
					return err
				}
				_, err = tx.MarkAnnounced(id, 5)
				return err
			},
			func() error { return tx.PutWebLogin([]byte("login"), 7, at.Add(time.Hour), at) },
			func() error {
				return tx.PutWebSession([]byte("sess"), store.WebSession{UserID: 7, Created: at, Expires: at.Add(time.Hour)}, at)
			},
		}
		for i := 0; i < 30; i++ { // tickets with events and indexes
			steps = append(steps, func() error {
				seq, err := tx.NextTicketSeq()
				if err != nil {
					return err
				}
				tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("k")), CitizenID: 5, Status: bansosbot.StatusNew,
					Region: "32.01.01", Category: "OTHER", CreatedAt: at, NextCheck: at.Add(time.Duration(seq) * time.Hour)}
				if err := tx.PutTicket(tk); err != nil {
					return err
				}
				_, err = tx.AppendEvent(tk, bansosbot.Event{Kind: "created", At: at})
				return err
			})
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func dump(t *testing.T, db *store.DB) (map[string]int, string) {
	t.Helper()
	perBucket := map[string]int{}
	var all strings.Builder
	err := db.Walk(func(b, k, v []byte) error {
		perBucket[string(b)]++
		fmt.Fprintf(&all, "%s %x %x\n", b, k, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return perBucket, all.String()
}

// TestMigrateStoreRoundTrip copies a bbolt installation holding every kind
// of record into PostgreSQL with the command: the copy holds the same
// pairs in every bucket, sequences go on where they stopped, the program's
// store opens on it, and a second copy into the same database is refused.
func TestMigrateStoreRoundTrip(t *testing.T) {
	_, url := pgtest.Schema(t)
	dir := t.TempDir()
	src, err := store.Open(filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fillEveryKind(t, src)
	wantCounts, want := dump(t, src)
	src.Close()
	if len(wantCounts) < 20 {
		t.Fatalf("the fixture fills %d buckets: %v; want every kind of record", len(wantCounts), wantCounts)
	}

	out, err := cli(t, envOf(nil), "migrate-store", "--from", dir, "--to", url)
	if err != nil {
		t.Fatalf("migrate-store: %v\n%s", err, out)
	}
	if !strings.Contains(out, "copied and verified") || !strings.Contains(out, "tickets") {
		t.Errorf("output = %s; want the counts and the verification", out)
	}
	pg, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenBackend(pg, "copy", t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gotCounts, got := dump(t, db)
	if got != want {
		t.Errorf("the copy differs: buckets %v; want %v", gotCounts, wantCounts)
	}
	err = db.Update(func(tx *store.Tx) error {
		seq, err := tx.NextTicketSeq()
		if err == nil && seq != 31 {
			err = fmt.Errorf("next ticket number after the copy = %d; want 31", seq)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	if out, err := cli(t, envOf(nil), "migrate-store", "--from", dir, "--to", url); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second copy into the same database = %v\n%s; want a refusal", err, out)
	}
	if !bytes.Contains([]byte(want), []byte("tickets")) {
		t.Error("no ticket in the fixture")
	}
}
