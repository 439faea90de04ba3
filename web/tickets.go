package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// pageSize is how many tickets a list page shows.
const pageSize = 50

// ticketRow is one line of the ticket list: no citizen data.
type ticketRow struct {
	No                   string
	Category, Region     string
	Status, StatusKey    string
	Created, Due         string
	Overdue              bool
	Assignee, Restricted string
}

// tickets: a filtered, paginated list of the area's tickets the viewer
// may handle (status, category, overdue, assignee, filing dates), in the
// status index's order (status, region, filing).
func (s *Server) tickets(w http.ResponseWriter, r *http.Request, v *viewer) {
	area, ok := s.area(w, r, v)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := s.cfg.Now()
	statuses := bansosbot.Statuses
	if st := bansosbot.Status(q.Get("status")); st != "" {
		if !slices.Contains(bansosbot.Statuses, st) {
			s.fail(w, r, v.Lang, errBadRequest)
			return
		}
		statuses = []bansosbot.Status{st}
	}
	category := q.Get("category")
	overdueOnly := q.Get("overdue") == "1"
	var assignee int64
	if a := q.Get("assignee"); a != "" {
		var err error
		if assignee, err = strconv.ParseInt(a, 10, 64); err != nil {
			s.fail(w, r, v.Lang, errBadRequest)
			return
		}
	}
	var from, to time.Time
	if f := q.Get("from"); f != "" {
		t, err := time.ParseInLocation("2006-01-02", f, area.TimeZone())
		if err != nil {
			s.fail(w, r, v.Lang, errBadRequest)
			return
		}
		from = t
	}
	if f := q.Get("to"); f != "" {
		t, err := time.ParseInLocation("2006-01-02", f, area.TimeZone())
		if err != nil {
			s.fail(w, r, v.Lang, errBadRequest)
			return
		}
		to = t.AddDate(0, 0, 1)
	}
	pageNo, _ := strconv.Atoi(q.Get("page"))
	pageNo = max(pageNo, 1)
	csv := q.Get("format") == "csv"
	skip, limit := (pageNo-1)*pageSize, pageSize+1
	if csv {
		skip, limit = 0, 100000
	}
	var rows []ticketRow
	names := map[int64]string{}
	err := s.cfg.DB.View(func(tx *store.Tx) error {
		var ferr error
		err := tx.RegionTickets(area, statuses, func(t *bansosbot.Ticket) bool {
			if !v.Staff.MayHandle(t, s.cfg.Engine.Restricted(t)) || (category != "" && t.Category != category) ||
				(assignee != 0 && t.Assignee != assignee) || (!from.IsZero() && t.CreatedAt.Before(from)) ||
				(!to.IsZero() && !t.CreatedAt.Before(to)) {
				return true
			}
			overdue := flows.Overdue(t, now)
			if overdueOnly && !overdue {
				return true
			}
			if skip > 0 {
				skip--
				return true
			}
			row, err := s.ticketRow(tx, t, now, v.Lang, names)
			if err != nil {
				ferr = err
				return false
			}
			rows = append(rows, row)
			return len(rows) < limit
		})
		return cmp.Or(err, ferr)
	})
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	if csv {
		var out [][]string
		for _, t := range rows {
			out = append(out, []string{t.No, t.Category, t.Region, t.Status, t.Created, t.Due, strconv.FormatBool(t.Overdue), t.Assignee})
		}
		writeCSV(w, "tiket.csv", []string{"ticket", "category", "region", "status", "filed", "due", "overdue", "assignee"}, out)
		return
	}
	next := len(rows) > pageSize
	if next {
		rows = rows[:pageSize]
	}
	var cats []struct{ Code, Name string }
	for _, c := range s.cfg.Engine.Config().Categories {
		cats = append(cats, struct{ Code, Name string }{c.Code, c.Name(v.Lang)})
	}
	var sts []struct{ Code, Name string }
	for _, st := range bansosbot.Statuses {
		sts = append(sts, struct{ Code, Name string }{string(st), s.cfg.Catalog.Text(v.Lang, flows.StaffStatusKey(st), nil)})
	}
	s.render(w, r, http.StatusOK, "tickets", &page{Lang: v.Lang, V: v, Nav: "tickets", Area: area, Title: s.text(v.Lang, "tickets"),
		Data: map[string]any{"Rows": rows, "Page": pageNo, "Next": next, "Categories": cats, "Statuses": sts,
			"Status": q.Get("status"), "Category": category, "Overdue": overdueOnly, "Assignee": q.Get("assignee"),
			"From": q.Get("from"), "To": q.Get("to")}})
}

func (s *Server) ticketRow(tx *store.Tx, t *bansosbot.Ticket, now time.Time, lang string, names map[int64]string) (ticketRow, error) {
	loc := t.Region.TimeZone()
	d := flows.DueState(t, now)
	row := ticketRow{No: string(t.No), Category: s.categoryName(t.Category, lang), Region: s.regionName(t.Region),
		Status: s.cfg.Catalog.Text(lang, flows.StaffStatusKey(t.Status), nil), StatusKey: string(t.Status),
		Created: t.CreatedAt.In(loc).Format("2006-01-02 15:04"), Overdue: d.Overdue}
	if !d.At.IsZero() {
		row.Due = d.At.In(loc).Format("2006-01-02 15:04")
	}
	if t.Assignee != 0 {
		name, ok := names[t.Assignee]
		if !ok {
			st, err := tx.Staff(t.Assignee)
			if err != nil {
				return row, err
			}
			if st != nil {
				name = st.Name
			}
			if name == "" {
				name = "#" + strconv.FormatInt(t.Assignee, 10)
			}
			names[t.Assignee] = name
		}
		row.Assignee = name
	}
	if s.cfg.Engine.Restricted(t) {
		row.Restricted = "🔒"
	}
	return row, nil
}

// eventRow is one history entry as staff see it: free text with NIKs,
// phone numbers, e-mail addresses and long numbers masked.
type eventRow struct {
	At, Who, Kind, Change, Text string
}

// ticket: one ticket, read-only, with its history; a ticket outside the
// viewer's reach answers 404 (audited).
func (s *Server) ticket(w http.ResponseWriter, r *http.Request, v *viewer) {
	no := bansosbot.TicketNo(r.PathValue("no"))
	now := s.cfg.Now()
	var t *bansosbot.Ticket
	var row ticketRow
	var events []eventRow
	var denied uint64
	err := s.cfg.DB.View(func(tx *store.Tx) error {
		var err error
		t, err = tx.TicketByNo(no)
		if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
			t, err = nil, nil
		}
		if err != nil || t == nil {
			return err
		}
		if !v.Staff.MayHandle(t, s.cfg.Engine.Restricted(t)) {
			denied, t = t.ID, nil
			return nil
		}
		if row, err = s.ticketRow(tx, t, now, v.Lang, map[int64]string{}); err != nil {
			return err
		}
		evs, err := tx.Events(t.ID)
		if err != nil {
			return err
		}
		loc := t.Region.TimeZone()
		for _, e := range evs {
			er := eventRow{At: e.At.In(loc).Format("2006-01-02 15:04"), Who: s.cfg.Catalog.Text(v.Lang, "dashboard.role_"+roleKey(e.Role), nil), Kind: e.Kind}
			if e.Kind == bansosbot.EventStatus {
				er.Change = s.cfg.Catalog.Text(v.Lang, flows.StaffStatusKey(e.From), nil) + " → " + s.cfg.Catalog.Text(v.Lang, flows.StaffStatusKey(e.To), nil)
			}
			if e.Kind == bansosbot.EventEscalated {
				er.Change = e.Args["step"]
			}
			er.Text = mask(e.Text)
			events = append(events, er)
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	if t == nil {
		s.notFound(w, r, v, denied, "ticket")
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		var out [][]string
		for _, e := range events {
			out = append(out, []string{e.At, e.Who, e.Kind, e.Change, e.Text})
		}
		writeCSV(w, "riwayat-"+string(t.No)+".csv", []string{"at", "by", "event", "change", "text"}, out)
		return
	}
	var files []int
	for i := range t.Attachments {
		files = append(files, i+1)
	}
	s.render(w, r, http.StatusOK, "ticket", &page{Lang: v.Lang, V: v, Nav: "tickets", Area: "", Title: s.text(v.Lang, "ticket") + " " + string(t.No),
		Data: map[string]any{"T": row, "Description": mask(t.Description), "Events": events, "Files": files, "FilesOn": s.cfg.Files != nil}})
}

func roleKey(role string) string {
	switch role {
	case "citizen", "worker", "supervisor", "admin":
		return role
	}
	return "system"
}

// mask hides NIKs, phone numbers, e-mail addresses and long numbers in
// free text (names typed into free text cannot be told apart).
func mask(s string) string {
	if s == "" || s == flows.ErasedMarker {
		return s
	}
	return bansosbot.RedactContacts(bansosbot.RedactNIKs(s))
}

// file serves a ticket's photo through the bot's file proxy.
func (s *Server) file(w http.ResponseWriter, r *http.Request, v *viewer) {
	no := bansosbot.TicketNo(r.PathValue("no"))
	i, _ := strconv.Atoi(r.PathValue("i"))
	var fileID string
	var denied uint64
	err := s.cfg.DB.View(func(tx *store.Tx) error {
		t, err := tx.TicketByNo(no)
		if err != nil {
			if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
				return nil
			}
			return err
		}
		if !v.Staff.MayHandle(t, s.cfg.Engine.Restricted(t)) {
			denied = t.ID
			return nil
		}
		if i >= 1 && i <= len(t.Attachments) {
			fileID = t.Attachments[i-1].FileID
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	if fileID == "" || s.cfg.Files == nil {
		s.notFound(w, r, v, denied, "file")
		return
	}
	s.cfg.Files(w, r, fileID)
}

// staffRow is one worker's workload.
type staffRow struct {
	ID                       int64
	Name, Role               string
	Open, Overdue, Responded int
	MedianResponse           string
}

// staff: the workload of the staff in the area (supervisors and admins):
// open and overdue tickets assigned, and the median first response of
// the tickets they hold that were answered in the period.
func (s *Server) staff(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.Staff.Role == bansosbot.RoleWorker {
		s.message(w, r, v.Lang, http.StatusForbidden, "supervisors_only")
		return
	}
	area, ok := s.area(w, r, v)
	if !ok {
		return
	}
	now := s.cfg.Now()
	ps, err := period(r.URL.Query(), now, area.TimeZone())
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	rows := map[int64]*staffRow{}
	hours := map[int64][]float64{}
	err = s.cfg.DB.View(func(tx *store.Tx) error {
		err := tx.AllStaff(func(st *bansosbot.Staff) bool {
			if st.Active && st.Role != bansosbot.RoleAdmin && slices.ContainsFunc(st.Regions, func(r bansosbot.RegionCode) bool { return area.Covers(r) }) {
				rows[st.UserID] = &staffRow{ID: st.UserID, Name: st.Name, Role: s.cfg.Catalog.Text(v.Lang, "dashboard.role_"+string(st.Role), nil)}
			}
			return true
		})
		if err != nil {
			return err
		}
		var ferr error
		err = tx.RegionTickets(area, bansosbot.Statuses, func(t *bansosbot.Ticket) bool {
			row := rows[t.Assignee]
			if row == nil || !v.Staff.MayHandle(t, s.cfg.Engine.Restricted(t)) {
				return true
			}
			if t.Status.Open() {
				row.Open++
				if flows.Overdue(t, now) {
					row.Overdue++
				}
			}
			from, to := ps.Cur.Bounds(t.Region.TimeZone())
			if fr := t.FirstResponseAt; !fr.IsZero() && !fr.Before(from) && fr.Before(to) {
				h, ok, err := s.cfg.Engine.ResponseHours(tx, t)
				if err != nil {
					ferr = err
					return false
				}
				if ok {
					row.Responded++
					hours[t.Assignee] = append(hours[t.Assignee], h)
				}
			}
			return true
		})
		return cmp.Or(err, ferr)
	})
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	var out []staffRow
	for id, row := range rows {
		row.MedianResponse = none
		if hs := hours[id]; len(hs) > 0 {
			slices.Sort(hs)
			m := hs[len(hs)/2]
			if len(hs)%2 == 0 {
				m = (hs[len(hs)/2-1] + hs[len(hs)/2]) / 2
			}
			row.MedianResponse = strconv.FormatFloat(m, 'f', 1, 64) + " j"
		}
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b staffRow) int {
		return cmp.Or(b.Overdue-a.Overdue, b.Open-a.Open, strings.Compare(a.Name, b.Name))
	})
	if r.URL.Query().Get("format") == "csv" {
		var rs [][]string
		for _, row := range out {
			rs = append(rs, []string{row.Name, row.Role, strconv.Itoa(row.Open), strconv.Itoa(row.Overdue), strconv.Itoa(row.Responded), row.MedianResponse})
		}
		writeCSV(w, "petugas.csv", []string{"name", "role", "open", "overdue", "first_responses", "median_first_response_hours"}, rs)
		return
	}
	s.render(w, r, http.StatusOK, "staff", &page{Lang: v.Lang, V: v, Nav: "staff", Area: area, Period: ps, Title: s.text(v.Lang, "staff"),
		Data: map[string]any{"Rows": out}})
}
