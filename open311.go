package bansosbot

import (
	"strings"
	"time"
	"unicode/utf8"
)

// GeoReportRequest is a ticket as an Open311 GeoReport v2 service request
// (the "requests" resource, JSON form), the interoperability format of
// national complaint systems. It carries no reporter data: no Telegram id,
// no phone, never a NIK.
type GeoReportRequest struct {
	ServiceRequestID  string   `json:"service_request_id"` // the ticket number
	Status            string   `json:"status"`             // open or closed
	StatusNotes       string   `json:"status_notes,omitempty"`
	ServiceName       string   `json:"service_name"`
	ServiceCode       string   `json:"service_code"` // the category code
	Description       string   `json:"description,omitempty"`
	AgencyResponsible string   `json:"agency_responsible,omitempty"`
	RequestedDatetime string   `json:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime,omitempty"`
	ExpectedDatetime  string   `json:"expected_datetime,omitempty"`
	Address           string   `json:"address,omitempty"`    // region names, most specific first
	AddressID         string   `json:"address_id,omitempty"` // Kemendagri region code
	Lat               *float64 `json:"lat,omitempty"`
	Long              *float64 `json:"long,omitempty"`
	// MediaURL stays empty: photos are Telegram file ids, not URLs, and
	// fetching them needs the bot's token.
	MediaURL string `json:"media_url"`
}

// GeoReportOptions is what the mapping needs besides the ticket.
type GeoReportOptions struct {
	Categories Categories
	Regions    *Regions
	Lang       string // language of service_name; Indonesian when empty
	Agency     string // agency_responsible, e.g. "Dinas Sosial Kabupaten Bogor"
	// Notes is status_notes: the public explanation of the current status
	// (a resolution, where a referral went), chosen by the caller.
	Notes string
}

// GeoReport maps the ticket to a GeoReport v2 service request. Times are in
// the ticket region's time zone (W3C format). Free text has NIK-like digit
// runs, phone numbers, e-mail addresses and long numbers masked
// (RedactNIKs, RedactContacts). For hidden-reporter categories nothing that
// could point at the reporter is exported: no location, no village, and
// no notes.
func (t *Ticket) GeoReport(opts GeoReportOptions) GeoReportRequest {
	loc := t.Region.TimeZone()
	ts := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.In(loc).Format(time.RFC3339)
	}
	r := GeoReportRequest{
		ServiceRequestID:  string(t.No),
		Status:            t.Status.Open311(),
		ServiceCode:       t.Category,
		ServiceName:       t.Category,
		AgencyResponsible: opts.Agency,
		RequestedDatetime: ts(t.CreatedAt),
		UpdatedDatetime:   ts(t.UpdatedAt),
		AddressID:         string(t.Region),
	}
	if c, ok := opts.Categories.Get(t.Category); ok {
		r.ServiceName = c.Name(opts.Lang)
	}
	if r.Status == "open" {
		r.ExpectedDatetime = ts(t.DueResolve)
	}
	if !t.Purged {
		r.Description = RedactContacts(RedactNIKs(t.Description))
	}
	place := t.Region
	if !t.HideReporter {
		r.StatusNotes = RedactContacts(RedactNIKs(opts.Notes))
		if t.Village != "" {
			place = t.Village
		}
		if t.Location != nil {
			lat, lon := t.Location.Lat, t.Location.Lon
			r.Lat, r.Long = &lat, &lon
		}
	}
	r.AddressID = string(place)
	if opts.Regions != nil && place != "" {
		r.Address = opts.Regions.DisplayName(place)
	}
	return r
}

// nikRunDigits is how many digits make a run look like a NIK (or a KK
// number, which has the same length).
const nikRunDigits = 16

// RedactNIKs replaces by "[NIK]" every run of at least 16 digits, read
// the way ParseNIK reads a NIK: ASCII or full-width digits, with any
// spaces, punctuation, symbols or invisible characters (zero-width
// spaces) between them ("3201 0123 4567 8901", "3201_0123...",
// "3201, 0123, ..."). Citizens type their NIK into complaints; exports
// and reports must never carry it, in any spelling the bot itself would
// accept. Shorter runs (amounts, phone numbers, dates) stay; a letter
// ends a run.
func RedactNIKs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if _, kind := nikRune(r, size); kind != nikDigit {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		// The run: digits and separators, ending at its last digit.
		digits, end := 0, i
		for j := i; j < len(s); {
			r, size := utf8.DecodeRuneInString(s[j:])
			_, kind := nikRune(r, size)
			if kind == nikOther {
				break
			}
			j += size
			if kind == nikDigit {
				digits, end = digits+1, j
			}
		}
		if digits >= nikRunDigits {
			b.WriteString("[NIK]")
		} else {
			b.WriteString(s[i:end])
		}
		i = end
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
