package flows

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/bansosbot/bansosbot"
)

// digestHour is the local hour from which a supervisor's digest of the
// day goes out.
const digestHour = 7

// digestOldest is how many of the oldest open tickets a digest lists.
const digestOldest = 3

// digester writes the supervisors' daily and weekly digests.
type digester struct {
	calendar *bansosbot.Calendar
	cat      *catalog
	conv     func(tx Store, now time.Time) *Conv
}

// Digest sends each active supervisor, once per working day at or after
// 07:00 in their time zone (their first region's; national: WIB), the
// numbers of their region: new, open, overdue and resolved tickets,
// service-level compliance and the oldest open tickets; on the first
// working day of the week a weekly summary instead. Run it every few
// minutes: a marker per (supervisor, local date), written in the same
// transaction as the replies, makes it send each digest once.
//
// The numbers come from the status index of the supervisor's regions,
// which includes their closed tickets: the cost grows with the region's
// history, once per supervisor and day.
func (g *digester) Digest(ctx context.Context, tx Store, now time.Time) (Outcome, error) {
	var sups []*bansosbot.Staff
	err := tx.AllStaff(func(s *bansosbot.Staff) bool {
		if s.Active && s.Role == bansosbot.RoleSupervisor {
			sups = append(sups, s)
		}
		return true
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("flows: digest: %w", err)
	}
	c := g.conv(tx, now)
	c.ctx = ctx
	cache := map[string]*digestStats{}
	for _, s := range sups {
		if err := ctx.Err(); err != nil {
			return Outcome{}, err
		}
		loc := regionZone(s.Regions)
		local := now.In(loc)
		if local.Hour() < digestHour || !g.calendar.IsWorkingDay(now, loc) {
			continue
		}
		to := time.Date(local.Year(), local.Month(), local.Day(), digestHour, 0, 0, 0, loc)
		first, _, err := tx.Allow("digest:"+strconv.FormatInt(s.UserID, 10)+":"+to.Format(time.DateOnly), 1, 20*time.Hour, now)
		if err != nil {
			return Outcome{}, fmt.Errorf("flows: digest marker: %w", err)
		}
		if !first {
			continue
		}
		weekly := g.firstWorkingDayOfWeek(to, loc)
		from := g.previousWorkingDay(to, loc)
		if weekly {
			from = to.AddDate(0, 0, -7)
		}
		regions := outermost(s.Regions)
		// The key holds every region: which restricted tickets a
		// supervisor may see depends on their most specific coverage.
		key := fmt.Sprint(s.Regions, from.Unix(), to.Unix())
		st := cache[key]
		if st == nil {
			may := func(t *bansosbot.Ticket) bool { return s.MayHandle(t, g.cat.restricted(t)) }
			if st, err = digestCount(tx, regions, may, from, to, now); err != nil {
				return Outcome{}, fmt.Errorf("flows: digest: %w", err)
			}
			cache[key] = st
		}
		if err := c.Notify(s.UserID, g.digestMessage(st, regions, weekly, from, to, now, loc)); err != nil {
			return Outcome{}, err
		}
	}
	return c.outcome(), nil
}

// firstWorkingDayOfWeek reports whether no working day precedes day in
// its ISO week (Monday, or Tuesday after a Monday holiday).
func (g *digester) firstWorkingDayOfWeek(day time.Time, loc *time.Location) bool {
	for i := int(day.Weekday()+6) % 7; i > 0; i-- {
		if g.calendar.IsWorkingDay(day.AddDate(0, 0, -i), loc) {
			return false
		}
	}
	return true
}

// previousWorkingDay is the same hour on the working day before day.
func (g *digester) previousWorkingDay(day time.Time, loc *time.Location) time.Time {
	for i := 1; i <= 31; i++ {
		if d := day.AddDate(0, 0, -i); g.calendar.IsWorkingDay(d, loc) {
			return d
		}
	}
	return day.AddDate(0, 0, -1)
}

// outermost drops duplicate regions and those inside another of the list,
// so that no ticket is counted twice.
func outermost(rs []bansosbot.RegionCode) []bansosbot.RegionCode {
	var out []bansosbot.RegionCode
	for i, r := range rs {
		inside := slices.ContainsFunc(rs, func(o bansosbot.RegionCode) bool { return o != r && o.Covers(r) }) ||
			slices.Contains(rs[:i], r)
		if !inside {
			out = append(out, r)
		}
	}
	return out
}

// digestStats are a region's numbers for a period [from, to) and now.
type digestStats struct {
	New, Open, Overdue, Resolved int
	ResolvedOnTime               int // of Resolved, by their resolution deadline
	Responded, RespondedOnTime   int // first responses in the period
	Oldest                       []*bansosbot.Ticket
}

// digestCount counts the tickets of regions that may returns true for
// (those the supervisor may handle: a restricted ticket is neither listed
// nor counted for its own kecamatan's chain).
func digestCount(tx Store, regions []bansosbot.RegionCode, may func(*bansosbot.Ticket) bool, from, to, now time.Time) (*digestStats, error) {
	st := &digestStats{}
	in := func(x time.Time) bool { return !x.IsZero() && !x.Before(from) && x.Before(to) }
	onTime := func(done, due time.Time) bool { return due.IsZero() || !done.After(due) }
	for _, r := range regions {
		err := tx.RegionTickets(r, bansosbot.Statuses, func(t *bansosbot.Ticket) bool {
			if !may(t) {
				return true
			}
			if in(t.CreatedAt) {
				st.New++
			}
			if t.Status.Open() {
				st.Open++
				if Overdue(t, now) {
					st.Overdue++
				}
				st.keepOldest(t)
			}
			if (t.Status == bansosbot.StatusResolved || t.Status == bansosbot.StatusClosed) && in(t.ResolvedAt) {
				st.Resolved++
				if onTime(t.ResolvedAt, t.DueResolve) {
					st.ResolvedOnTime++
				}
			}
			if in(t.FirstResponseAt) {
				st.Responded++
				if onTime(t.FirstResponseAt, t.DueResponse) {
					st.RespondedOnTime++
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *digestStats) keepOldest(t *bansosbot.Ticket) {
	i, _ := slices.BinarySearchFunc(st.Oldest, t, func(a, b *bansosbot.Ticket) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if i < digestOldest {
		st.Oldest = slices.Insert(st.Oldest, i, t)
		if len(st.Oldest) > digestOldest {
			st.Oldest = st.Oldest[:digestOldest]
		}
	}
}

func (g *digester) digestMessage(st *digestStats, regions []bansosbot.RegionCode, weekly bool, from, to, now time.Time, loc *time.Location) Reply {
	region := g.cat.regionList(regions)
	title := T("digest.daily_title", "Region", region, "Date", Time{T: to, Loc: loc, DateOnly: true})
	if weekly {
		title = T("digest.weekly_title", "Region", region, "Date", Time{T: to, Loc: loc, DateOnly: true})
	}
	// What the period holds (new, resolved, compliance) and what is open
	// now are told apart, each with its own time: the digest may go out
	// hours after the period ended (a supervisor registering at noon, a
	// bot that was down), and the open tickets are those of that moment.
	text := []Msg{title,
		T("digest.period", "From", Time{T: from, Loc: loc}, "To", Time{T: to, Loc: loc}),
		T("digest.counts", "New", st.New, "Resolved", st.Resolved),
		T("digest.compliance", "Response", percent(st.RespondedOnTime, st.Responded), "Resolution", percent(st.ResolvedOnTime, st.Resolved)),
		T("digest.now_counts", "At", Time{T: now, Loc: loc}, "Open", st.Open, "Overdue", st.Overdue),
	}
	var row []Choice
	if len(st.Oldest) == 0 {
		text = append(text, T("digest.oldest_none"))
	} else {
		text = append(text, T("digest.oldest_title"))
	}
	for _, t := range st.Oldest {
		days := int(now.Sub(t.CreatedAt) / (24 * time.Hour))
		text = append(text, T("digest.oldest_item", "No", t.No, "Category", g.cat.categoryName(t),
			"Age", T("digest.age", "Count", days), "Status", T(StaffStatusKey(t.Status)), "Overdue", Overdue(t, now)))
		row = append(row, Choice{T("escalation.open", "No", t.No), esOpen + ":" + idStr(t.ID)})
	}
	var rows [][]Choice
	if len(row) > 0 {
		rows = [][]Choice{row}
	}
	return Reply{Action: Send, Text: text, Buttons: Buttons(escalationFlow, rows)}
}

func percent(met, total int) Msg {
	if total == 0 {
		return T("digest.pct_none")
	}
	return T("digest.pct", "Pct", met*100/total, "Met", met, "Total", total)
}
