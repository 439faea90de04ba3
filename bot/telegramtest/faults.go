package telegramtest

import (
	"fmt"
	"math"
	"net/http"
	"time"
)

type faultKind int

const (
	faultNone faultKind = iota
	faultAPIError
	faultProxy
	faultSlow
	faultDrop
	faultDropResponse
)

// Fault is a failure the fake answers a request with instead of (or in
// addition to) processing it. Build one with TooManyRequests, ServerError,
// ProxyError, Forbidden, APIError, Slow, Drop or DropResponse. The zero Fault
// means "no fault".
type Fault struct {
	kind        faultKind
	code        int
	description string
	retryAfter  int
	delay       time.Duration
}

// TooManyRequests answers 429 "Too Many Requests: retry after N" with
// parameters.retry_after = retryAfter, without processing the request.
func TooManyRequests(retryAfter int) Fault {
	return Fault{
		kind:        faultAPIError,
		code:        http.StatusTooManyRequests,
		description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		retryAfter:  retryAfter,
	}
}

// ServerError answers with Telegram's JSON error for a 5xx code (500
// "Internal Server Error", 502 "Bad Gateway", ...), without processing.
func ServerError(code int) Fault {
	return Fault{kind: faultAPIError, code: code, description: http.StatusText(code)}
}

// ProxyError answers with a plain HTML error page and the given status code,
// as the reverse proxy in front of Telegram does when the backend is away.
// The client cannot decode it as JSON.
func ProxyError(code int) Fault {
	return Fault{kind: faultProxy, code: code}
}

// Forbidden answers 403 "Forbidden: bot was blocked by the user".
func Forbidden() Fault {
	return APIError(http.StatusForbidden, "Forbidden: bot was blocked by the user")
}

// APIError answers with Telegram's JSON error shape, the given error_code
// (also used as the HTTP status) and description, without processing.
func APIError(code int, description string) Fault {
	return Fault{kind: faultAPIError, code: code, description: description}
}

// Slow processes the request normally but holds the answer for d (or until
// the client goes away). A client that times out meanwhile sees an error even
// though the request took effect, like a slow network after Telegram.
func Slow(d time.Duration) Fault {
	return Fault{kind: faultSlow, delay: d}
}

// Drop closes the connection without answering and without processing the
// request (the request was lost on its way to Telegram).
func Drop() Fault {
	return Fault{kind: faultDrop}
}

// DropResponse processes the request and then closes the connection without
// answering (the answer was lost on its way back): the client sees an error
// although, for example, the message was sent.
func DropResponse() Fault {
	return Fault{kind: faultDropResponse}
}

// IsZero reports whether f is the zero Fault (no fault).
func (f Fault) IsZero() bool { return f.kind == faultNone }

// String describes the fault.
func (f Fault) String() string {
	switch f.kind {
	case faultNone:
		return "none"
	case faultAPIError:
		return fmt.Sprintf("error %d %q", f.code, f.description)
	case faultProxy:
		return fmt.Sprintf("proxy error %d", f.code)
	case faultSlow:
		return fmt.Sprintf("slow %s", f.delay)
	case faultDrop:
		return "drop"
	case faultDropResponse:
		return "drop response"
	}
	return "unknown"
}

// pendingFault is a fault queued by FailNext.
type pendingFault struct {
	fault     Fault
	remaining int
}

// Limits are Telegram's flood limits that the fake enforces on sending
// methods (sendMessage, sendPhoto, sendDocument, sendLocation,
// editMessageText, editMessageCaption, editMessageReplyMarkup). Exceeding
// one answers 429 with retry_after set to the whole seconds until the send
// would be allowed. A zero field disables that limit; rejected sends do not
// count. See also TelegramLimits.
type Limits struct {
	// PerChat is the minimum interval between two messages to the same
	// private chat (Telegram: about one per second).
	PerChat time.Duration
	// PerGroupPerMinute is the maximum number of messages to one group in
	// any rolling minute (Telegram: 20).
	PerGroupPerMinute int
	// Global is the maximum number of messages to all chats in any rolling
	// second (Telegram: about 30).
	Global int
}

// TelegramLimits returns the limits Telegram documents for bots: one
// message per second per private chat, 20 per minute per group, 30 per
// second overall.
func TelegramLimits() Limits {
	return Limits{PerChat: time.Second, PerGroupPerMinute: 20, Global: 30}
}

// limiter tracks recent sends for Limits. Guarded by Server.mu.
type limiter struct {
	lastPrivate map[int64]time.Time
	group       map[int64][]time.Time
	global      []time.Time
}

func newLimiter() limiter {
	return limiter{lastPrivate: map[int64]time.Time{}, group: map[int64][]time.Time{}}
}

// check returns the seconds to wait before a send to chatID is allowed, or 0.
func (l *limiter) check(lim Limits, chatID int64, now time.Time) int {
	var wait time.Duration
	if lim.Global > 0 {
		l.global = pruneBefore(l.global, now.Add(-time.Second))
		if len(l.global) >= lim.Global {
			wait = max(wait, l.global[len(l.global)-lim.Global].Add(time.Second).Sub(now))
		}
	}
	if chatID > 0 && lim.PerChat > 0 {
		if last, ok := l.lastPrivate[chatID]; ok && now.Sub(last) < lim.PerChat {
			wait = max(wait, last.Add(lim.PerChat).Sub(now))
		}
	}
	if chatID < 0 && lim.PerGroupPerMinute > 0 {
		ts := pruneBefore(l.group[chatID], now.Add(-time.Minute))
		l.group[chatID] = ts
		if len(ts) >= lim.PerGroupPerMinute {
			wait = max(wait, ts[len(ts)-lim.PerGroupPerMinute].Add(time.Minute).Sub(now))
		}
	}
	if wait <= 0 {
		return 0
	}
	return int(math.Ceil(wait.Seconds()))
}

// record notes a successful send to chatID.
func (l *limiter) record(chatID int64, now time.Time) {
	l.global = append(l.global, now)
	if chatID > 0 {
		l.lastPrivate[chatID] = now
	} else if chatID < 0 {
		l.group[chatID] = append(l.group[chatID], now)
	}
}

// pruneBefore drops the times before cut from the sorted slice ts.
func pruneBefore(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

// Counts are the outcomes of the requests to one method.
type Counts struct {
	Calls           int // requests received, whatever became of them
	OK              int // answered {"ok":true}
	BadRequest      int // 400
	Forbidden       int // 403
	TooManyRequests int // 429, injected or from Limits
	ServerError     int // 5xx, JSON or proxy HTML, injected or from SetDown
	OtherError      int // any other error code (401, 404, 409, ...)
	Dropped         int // connection closed without an answer (Drop, DropResponse)
	Discarded       int // not processed because the client had gone away (see Thaw)
}

func (c *Counts) add(o Counts) {
	c.Calls += o.Calls
	c.OK += o.OK
	c.BadRequest += o.BadRequest
	c.Forbidden += o.Forbidden
	c.TooManyRequests += o.TooManyRequests
	c.ServerError += o.ServerError
	c.OtherError += o.OtherError
	c.Dropped += o.Dropped
	c.Discarded += o.Discarded
}

func (c *Counts) addStatus(code int) {
	switch {
	case code == http.StatusOK:
		c.OK++
	case code == http.StatusBadRequest:
		c.BadRequest++
	case code == http.StatusForbidden:
		c.Forbidden++
	case code == http.StatusTooManyRequests:
		c.TooManyRequests++
	case code >= 500:
		c.ServerError++
	default:
		c.OtherError++
	}
}

// Stats maps a Bot API method name (as Telegram spells it, e.g.
// "sendMessage") to the outcomes of its requests.
type Stats map[string]Counts

// Total sums the counts of all methods.
func (s Stats) Total() Counts {
	var t Counts
	for _, c := range s {
		t.add(c)
	}
	return t
}
