package flows_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// The rule "refusals come before any write", checked on every input the
// harness runs (goldens, the monkey, the forged and security tests): a
// refusal is answered and the transaction commits, so whatever a flow
// wrote before refusing would stay written, half done, with a "no" to the
// user. The harness gives the engine its store wrapped in a writeWatch,
// which notes the flows' writes; the engine tells the harness's Watcher
// (refusalRule) when the flows begin and when it refuses.

// writeWatch is the store of one input, noting the writes made after the
// engine's own (the user's records, the message limit) and the refusals
// that follow one.
type writeWatch struct {
	*store.Tx
	routing bool     // the flows run: their writes are noted
	writes  []string // the flows' writes so far
	broken  []string // refusals that came after a write
}

func (w *writeWatch) wrote(what string) {
	if w.routing {
		w.writes = append(w.writes, what)
	}
}

// refusalRule is the harness's Watcher.
type refusalRule struct{}

func (refusalRule) Routing(tx flows.Store) {
	if w, ok := tx.(*writeWatch); ok {
		w.routing = true
	}
}

func (refusalRule) Refused(tx flows.Store, key string) {
	if w, ok := tx.(*writeWatch); ok && len(w.writes) > 0 {
		w.broken = append(w.broken, fmt.Sprintf("refusal %s after %s", key, strings.Join(w.writes, ", ")))
	}
}

// storeReads are the methods of flows.Store that write nothing; every
// other method is a write, noted by writeWatch (TestWriteWatchNotesEveryWrite).
var storeReads = []string{"Profile", "Session", "Prompt", "Ticket", "TicketByNo", "Events", "CitizenTickets", "RegionTickets",
	"DueTickets", "Staff", "AllStaff", "Invite", "AuditByTicket", "AuditByStaff", "RegistryCurrent", "RegistryLookup", "Peek",
	"Subscription", "Subscriptions", "Announcement", "Announcements"}

func (w *writeWatch) PutProfile(p *bansosbot.Profile) error {
	w.wrote("PutProfile")
	return w.Tx.PutProfile(p)
}

func (w *writeWatch) DeleteProfile(userID int64) error {
	w.wrote("DeleteProfile")
	return w.Tx.DeleteProfile(userID)
}

func (w *writeWatch) PutSession(s *bansosbot.Session) error {
	w.wrote("PutSession")
	return w.Tx.PutSession(s)
}

// attemptLimits are the rate limits that count every attempt, refused
// ones included: their hit records that the attempt was made, which stays
// true when it is refused. The registration limit is there against
// guessing invitation codes: a wrong code must count. (Limits that count
// only what succeeds Peek first and Allow after: the status check.)
var attemptLimits = []string{"invite"}

// Allow writes a hit when it allows (a refused one records nothing).
func (w *writeWatch) Allow(name string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	ok, wait, err := w.Tx.Allow(name, limit, window, now)
	if kind, _, _ := strings.Cut(name, ":"); ok && limit > 0 && !slices.Contains(attemptLimits, kind) {
		w.wrote("Allow(" + kind + ")")
	}
	return ok, wait, err
}

func (w *writeWatch) DeletePrompt(chatID int64) error {
	w.wrote("DeletePrompt")
	return w.Tx.DeletePrompt(chatID)
}

func (w *writeWatch) DeleteDeadLetters(userID int64) (int, error) {
	w.wrote("DeleteDeadLetters")
	return w.Tx.DeleteDeadLetters(userID)
}

func (w *writeWatch) NextTicketSeq() (uint64, error) {
	w.wrote("NextTicketSeq")
	return w.Tx.NextTicketSeq()
}

func (w *writeWatch) PutTicket(t *bansosbot.Ticket) error {
	w.wrote("PutTicket")
	return w.Tx.PutTicket(t)
}

func (w *writeWatch) AppendEvent(t *bansosbot.Ticket, e bansosbot.Event) (bansosbot.Event, error) {
	w.wrote("AppendEvent(" + string(e.Kind) + ")")
	return w.Tx.AppendEvent(t, e)
}

func (w *writeWatch) PutEvent(e bansosbot.Event) error {
	w.wrote("PutEvent")
	return w.Tx.PutEvent(e)
}

func (w *writeWatch) PutStaff(s *bansosbot.Staff) error {
	w.wrote("PutStaff")
	return w.Tx.PutStaff(s)
}

func (w *writeWatch) NextInviteSeq() (uint64, error) {
	w.wrote("NextInviteSeq")
	return w.Tx.NextInviteSeq()
}

func (w *writeWatch) PutInvite(inv *bansosbot.Invite) error {
	w.wrote("PutInvite")
	return w.Tx.PutInvite(inv)
}

func (w *writeWatch) AppendAudit(e *bansosbot.AuditEntry) error {
	w.wrote("AppendAudit(" + e.Action + ")")
	return w.Tx.AppendAudit(e)
}

func (w *writeWatch) ClearAuditActor(seq uint64) error {
	w.wrote("ClearAuditActor")
	return w.Tx.ClearAuditActor(seq)
}

func (w *writeWatch) PutSubscription(s *bansosbot.Subscription) error {
	w.wrote("PutSubscription")
	return w.Tx.PutSubscription(s)
}

func (w *writeWatch) DeleteSubscription(userID int64) error {
	w.wrote("DeleteSubscription")
	return w.Tx.DeleteSubscription(userID)
}

func (w *writeWatch) NextAnnouncementSeq() (uint64, error) {
	w.wrote("NextAnnouncementSeq")
	return w.Tx.NextAnnouncementSeq()
}

func (w *writeWatch) PutAnnouncement(a *bansosbot.Announcement) error {
	w.wrote("PutAnnouncement")
	return w.Tx.PutAnnouncement(a)
}

func (w *writeWatch) MarkAnnounced(annID uint64, userID int64) (bool, error) {
	w.wrote("MarkAnnounced")
	return w.Tx.MarkAnnounced(annID, userID)
}

func (w *writeWatch) ActOnAnnouncements(userID int64, since time.Time) ([]uint64, error) {
	w.wrote("ActOnAnnouncements")
	return w.Tx.ActOnAnnouncements(userID, since)
}

// PutWebLogin is flows.DashboardStore's write.
func (w *writeWatch) PutWebLogin(hash []byte, userID int64, expires, now time.Time) error {
	w.wrote("PutWebLogin")
	return w.Tx.PutWebLogin(hash, userID, expires, now)
}

// TestWriteWatchNotesEveryWrite: every method of flows.Store (and the
// dashboard's write) is either a read or a write writeWatch notes, so that
// a method added to the store cannot slip past the rule.
func TestWriteWatchNotesEveryWrite(t *testing.T) {
	watch := reflect.TypeOf(&writeWatch{})
	ifaces := []reflect.Type{reflect.TypeOf((*flows.Store)(nil)).Elem(), reflect.TypeOf((*flows.DashboardStore)(nil)).Elem()}
	for _, it := range ifaces {
		for i := range it.NumMethod() {
			name := it.Method(i).Name
			if _, ok := watch.MethodByName(name); !ok {
				t.Errorf("writeWatch lacks %s", name)
				continue
			}
			// A method writeWatch defines itself (pointer receiver) is in
			// *writeWatch's method set only; one promoted from the embedded
			// *store.Tx is in writeWatch's too.
			_, promoted := reflect.TypeOf(writeWatch{}).MethodByName(name)
			own := !promoted
			switch read := slices.Contains(storeReads, name); {
			case read && own:
				t.Errorf("%s is listed as a read but writeWatch notes it", name)
			case !read && !own:
				t.Errorf("%s.%s is neither in storeReads nor noted by writeWatch: a write would go unnoticed", it.Name(), name)
			}
		}
	}
}

// TestRefusalAfterWriteIsCaught: a deliberately bad command that writes
// and then refuses fails the rule, and the same refusal made before the
// write passes it.
func TestRefusalAfterWriteIsCaught(t *testing.T) {
	h := newHarness(t, quiet())
	refuse := bansosbot.Errorf(bansosbot.EConflict, "mytickets.closed", "No", "X")
	touch := func(c *flows.Conv) error {
		p := c.EnsureProfile()
		p.Lang = "en"
		return c.Tx.PutProfile(p)
	}
	flows.AddTestCommand(h.Engine, flows.Command{ID: "bad", Names: map[string]string{"id": "rusak", "en": "broken"},
		Run: func(c *flows.Conv) error {
			if err := touch(c); err != nil {
				return err
			}
			return refuse
		}})
	flows.AddTestCommand(h.Engine, flows.Command{ID: "good", Names: map[string]string{"id": "baik", "en": "good"},
		Run: func(c *flows.Conv) error {
			if c.Profile != nil && c.Profile.Lang == "en" {
				return refuse // checked first
			}
			return touch(c)
		}})
	u := h.User(300, "id")
	u.Onboard("id")
	in := u.input()
	in.Text, in.Command = "/rusak", "/rusak"
	if _, broken := h.do(in, "text /rusak"); len(broken) != 1 || !strings.Contains(broken[0], "mytickets.closed after PutProfile") {
		t.Errorf("a refusal after a write: broken = %q; want it caught", broken)
	}
	in.Text, in.Command = "/baik", "/baik"
	if _, broken := h.do(in, "text /baik"); len(broken) != 0 {
		t.Errorf("a refusal before any write: broken = %q; want none", broken)
	}
}
