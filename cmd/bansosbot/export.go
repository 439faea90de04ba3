package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

const exportUsage = `Usage:
  bansosbot tickets export --format csv|json|open311 [--since DATE] [--region CODE|NAME] [--out FILE]
      [--data DIR] [--categories FILE] [--agency NAME] [--lang id|en]

Exports tickets without the reporter's account data: no Telegram id, no
phone number given in the form, no photos. In the free text (description,
status notes) NIKs become [NIK], phone numbers [PHONE], e-mail addresses
[EMAIL] and other numbers of 10+ digits (accounts, cards) [NUMBER]. Names
typed into free text cannot be found reliably and are NOT masked: read the
export before it leaves the office. Hidden-identity categories (PUNGLI,
OFFICER_MISCONDUCT) go without location, village and notes. open311 writes GeoReport v2 service requests (JSON).
--since keeps tickets filed on or after DATE (YYYY-MM-DD, WIB);
--region keeps tickets in a region and below: a code (32.01) or a name
("kab bogor"), like staff add; a name that fits several regions is
refused with their codes (bansosbot region find NAME).
--out FILE writes the export to FILE (mode 0600) where this command runs,
replacing an existing FILE; without it the export goes to standard output.
With the bot running the export runs inside it (through DATA/control.sock),
otherwise on the data directory directly.`

type exportOpts struct{ format, since, region, agency, lang *string }

func exportFlags() (*flag.FlagSet, exportOpts) {
	fs := flag.NewFlagSet("tickets export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, exportOpts{
		format: fs.String("format", "", "csv, json or open311"),
		since:  fs.String("since", "", "tickets filed on or after this date (YYYY-MM-DD, WIB)"),
		region: fs.String("region", "", "region code or name, e.g. 32.01 or \"kab bogor\""),
		agency: fs.String("agency", "Dinas Sosial", "agency_responsible"),
		lang:   fs.String("lang", "id", "language of category names: id or en"),
	}
}

// exportRow is a ticket in the csv and json exports: the GeoReport fields
// plus the lifecycle details Open311 has no field for.
type exportRow struct {
	bansosbot.GeoReportRequest
	DetailedStatus  string `json:"detailed_status"`
	DueResponse     string `json:"due_response,omitempty"`
	FirstResponseAt string `json:"first_response_at,omitempty"`
	ResolvedAt      string `json:"resolved_at,omitempty"`
	ClosedAt        string `json:"closed_at,omitempty"`
	Escalations     int    `json:"escalations"`
	Photos          int    `json:"photos"`
	Rating          int    `json:"rating,omitempty"`
	HiddenReporter  bool   `json:"hidden_reporter"`
}

var exportColumns = []string{
	"service_request_id", "status", "detailed_status", "status_notes", "service_code", "service_name", "description",
	"agency_responsible", "requested_datetime", "updated_datetime", "expected_datetime", "due_response",
	"first_response_at", "resolved_at", "closed_at", "address", "address_id", "lat", "long",
	"escalations", "photos", "rating", "hidden_reporter",
}

func (r exportRow) record() []string {
	coord := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	rating := ""
	if r.Rating > 0 {
		rating = strconv.Itoa(r.Rating)
	}
	rec := []string{
		r.ServiceRequestID, r.Status, r.DetailedStatus, r.StatusNotes, r.ServiceCode, r.ServiceName, r.Description,
		r.AgencyResponsible, r.RequestedDatetime, r.UpdatedDatetime, r.ExpectedDatetime, r.DueResponse,
		r.FirstResponseAt, r.ResolvedAt, r.ClosedAt, r.Address, r.AddressID, coord(r.Lat), coord(r.Long),
		strconv.Itoa(r.Escalations), strconv.Itoa(r.Photos), rating, strconv.FormatBool(r.HiddenReporter),
	}
	for i, v := range rec {
		rec[i] = defuseFormula(v)
	}
	return rec
}

// defuseFormula keeps spreadsheets from running citizen text as a formula
// (CSV injection): a cell starting with = + - @ or a control character is
// prefixed with an apostrophe.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil { // negative coordinates stay numbers
			return "'" + s
		}
	}
	return s
}

// runTickets implements "bansosbot tickets export": the tickets as CSV,
// JSON or Open311 GeoReport v2 on stdout ("--out FILE" is handled by
// runStore, which writes the file where the command was typed).
func runTickets(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("tickets: missing subcommand\n%s", exportUsage)
	}
	fs, o := exportFlags()
	format, since, regionFlag, agency, lang := o.format, o.since, o.region, o.agency, o.lang
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("tickets export: %w\n%s", err, exportUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tickets export: unexpected %q\n%s", fs.Arg(0), exportUsage)
	}
	if *format != "csv" && *format != "json" && *format != "open311" {
		return fmt.Errorf("tickets export: --format must be csv, json or open311\n%s", exportUsage)
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = time.ParseInLocation(time.DateOnly, *since, bansosbot.RegionCode("").TimeZone()); err != nil {
			return fmt.Errorf("tickets export: --since %q: want YYYY-MM-DD", *since)
		}
		if err := notFuture(flows.DateOf(from, from.Location()), time.Now(), from.Location()); err != nil {
			return fmt.Errorf("tickets export: --since %s %w", *since, err)
		}
	}
	region, err := regionFilter(*regionFlag, nil)
	if err != nil {
		return fmt.Errorf("tickets export: %w", err)
	}
	cats, err := cfg.categories()
	if err != nil {
		return fmt.Errorf("tickets export: %w", err)
	}
	opts := bansosbot.GeoReportOptions{Categories: cats, Regions: bansosbot.DefaultRegions(), Agency: *agency, Lang: bansosbot.NormalizeLang(*lang)}
	bw := bufio.NewWriter(stdout)
	if _, err := writeExport(ctx, db, bw, *format, from, region, opts); err != nil {
		return fmt.Errorf("tickets export: %w", err)
	}
	return bw.Flush()
}

// writeExport writes the selected tickets in id order, reading them in one
// read-only transaction (a consistent snapshot).
func writeExport(ctx context.Context, db *store.DB, w io.Writer, format string, since time.Time, region bansosbot.RegionCode, opts bansosbot.GeoReportOptions) (int, error) {
	var rows []exportRow
	err := db.View(func(tx *store.Tx) error {
		var tickets []*bansosbot.Ticket
		keep := func(t *bansosbot.Ticket) bool { return since.IsZero() || !t.CreatedAt.Before(since) }
		if region != "" { // the status+region index reads only that region
			if err := tx.RegionTickets(region, bansosbot.Statuses, func(t *bansosbot.Ticket) bool {
				if keep(t) {
					tickets = append(tickets, t)
				}
				return ctx.Err() == nil
			}); err != nil {
				return err
			}
			slices.SortFunc(tickets, func(a, b *bansosbot.Ticket) int { return cmpID(a.ID, b.ID) })
		} else if err := tx.AllTickets(func(t *bansosbot.Ticket) error {
			if keep(t) {
				tickets = append(tickets, t)
			}
			return ctx.Err()
		}); err != nil {
			return err
		}
		for _, t := range tickets {
			notes, err := statusNotes(tx, t)
			if err != nil {
				return err
			}
			o := opts
			o.Notes = notes
			rows = append(rows, exportTicket(t, o))
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, err
	}
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(exportColumns); err != nil {
			return 0, err
		}
		for _, r := range rows {
			if err := cw.Write(r.record()); err != nil {
				return 0, err
			}
		}
		cw.Flush()
		return len(rows), cw.Error()
	case "open311":
		reqs := make([]bansosbot.GeoReportRequest, len(rows))
		for i, r := range rows {
			reqs[i] = r.GeoReportRequest
		}
		return len(rows), writeJSON(w, reqs)
	}
	return len(rows), writeJSON(w, rows)
}

func cmpID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// statusNotes is the public text of the ticket's latest status change (a
// resolution, a rejection reason, where a referral went), if any.
func statusNotes(tx *store.Tx, t *bansosbot.Ticket) (string, error) {
	events, err := tx.Events(t.ID)
	if err != nil {
		return "", err
	}
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.Kind == bansosbot.EventStatus && e.Public {
			if e.Text == flows.ErasedMarker {
				return "", nil
			}
			return e.Text, nil
		}
	}
	return "", nil
}

func exportTicket(t *bansosbot.Ticket, opts bansosbot.GeoReportOptions) exportRow {
	loc := t.Region.TimeZone()
	ts := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.In(loc).Format(time.RFC3339)
	}
	return exportRow{
		GeoReportRequest: t.GeoReport(opts),
		DetailedStatus:   string(t.Status),
		DueResponse:      ts(t.DueResponse),
		FirstResponseAt:  ts(t.FirstResponseAt),
		ResolvedAt:       ts(t.ResolvedAt),
		ClosedAt:         ts(t.ClosedAt),
		Escalations:      t.Escalation,
		Photos:           len(t.Attachments),
		Rating:           t.Rating,
		HiddenReporter:   t.HideReporter,
	}
}
