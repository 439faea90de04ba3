package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// DefaultToken is the token NewServer uses when given an empty one.
const DefaultToken = "123456789:AAFakeTelegramTokenForTests"

// ErrClosed is returned by the waiting methods once the Server is closed.
var ErrClosed = errors.New("telegramtest: server closed")

// Option configures a Server.
type Option func(*config)

type config struct {
	botFirstName      string
	botUsername       string
	limits            Limits
	now               func() time.Time
	webhookRetryDelay time.Duration
	webhookTimeout    time.Duration
	logf              func(format string, args ...any)
	firstUpdateID     int64
}

// WithBot sets the first name and username getMe reports (default "Test
// Bot", "test_bot").
func WithBot(firstName, username string) Option {
	return func(c *config) { c.botFirstName, c.botUsername = firstName, username }
}

// WithLimits makes the fake enforce flood limits on sending methods (see
// Limits and TelegramLimits). The default is no limits.
func WithLimits(l Limits) Option {
	return func(c *config) { c.limits = l }
}

// WithClock sets the clock used for message dates and Limits (default
// time.Now). Long-poll and webhook timing always use real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithWebhookRetryDelay sets how long the fake waits before re-delivering an
// update the webhook did not accept (default 50ms).
func WithWebhookRetryDelay(d time.Duration) Option {
	return func(c *config) { c.webhookRetryDelay = d }
}

// WithWebhookTimeout bounds each webhook POST (default 10s).
func WithWebhookTimeout(d time.Duration) Option {
	return func(c *config) { c.webhookTimeout = d }
}

// WithFirstUpdateID makes the first update's id id (default 1), as when
// Telegram continues after updates a bot confirmed in an earlier run.
func WithFirstUpdateID(id int64) Option {
	return func(c *config) { c.firstUpdateID = id }
}

// WithLogf logs every request and its outcome through logf (for example
// log.Printf in the demo, or t.Logf in a test).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(c *config) { c.logf = logf }
}

// Server is a fake Telegram Bot API server. Create it with NewServer and stop
// it with Close.
type Server struct {
	token   string
	cfg     config
	botUser models.User
	http    *httptest.Server

	closed    chan struct{}
	closeOnce sync.Once
	isClosed  bool // guarded by mu; set before waiting for goroutines
	bgCtx     context.Context
	bgCancel  context.CancelFunc
	wg        sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change

	seq          int64
	nextUpdateID int64
	pending      []models.Update
	allowed      map[string]bool // nil: Telegram's default set
	pollGen      uint64
	polling      int

	chats       map[int64]*chatState
	chatOrder   []int64
	callbacks   map[string]*callbackState
	nextCBQ     int64
	files       map[string]*fileRecord
	filesByPath map[string]*fileRecord
	nextFile    int
	commands    map[string][]models.BotCommand

	webhook webhookState

	faults     map[string][]*pendingFault
	chatFaults map[int64]Fault
	down       bool
	frozen     bool
	held       []*heldRequest

	limits  Limits
	limiter limiter
	stats   map[string]*Counts
	subs    map[*subscriber]struct{}
}

type chatState struct {
	chat    models.Chat
	nextID  int
	records []*record
	byID    map[int]*record
}

// record is a transcript entry; msg is set for messages (not for callback
// entries) and is what the fake echoes to the bot.
type record struct {
	entry Entry
	msg   *models.Message
}

type callbackState struct {
	chatID    int64
	messageID int
	userID    int64
	answered  bool
}

type heldRequest struct {
	method    string
	release   chan struct{} // closed by Thaw
	decided   chan struct{} // closed once discarded or processed
	released  bool
	abandoned bool
}

// NewServer starts a fake Bot API for token (DefaultToken if empty) on a
// random port of 127.0.0.1.
func NewServer(token string, opts ...Option) *Server {
	if token == "" {
		token = DefaultToken
	}
	cfg := config{
		botFirstName:      "Test Bot",
		botUsername:       "test_bot",
		now:               time.Now,
		webhookRetryDelay: 50 * time.Millisecond,
		webhookTimeout:    10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	botID, err := strconv.ParseInt(strings.SplitN(token, ":", 2)[0], 10, 64)
	if err != nil || botID <= 0 {
		botID = 1
	}
	s := &Server{
		token: token,
		cfg:   cfg,
		botUser: models.User{
			ID: botID, IsBot: true, FirstName: cfg.botFirstName, Username: cfg.botUsername,
			CanJoinGroups: true,
		},
		closed:       make(chan struct{}),
		changed:      make(chan struct{}),
		nextUpdateID: 1,
		chats:        map[int64]*chatState{},
		callbacks:    map[string]*callbackState{},
		files:        map[string]*fileRecord{},
		filesByPath:  map[string]*fileRecord{},
		commands:     map[string][]models.BotCommand{},
		faults:       map[string][]*pendingFault{},
		chatFaults:   map[int64]Fault{},
		limits:       cfg.limits,
		limiter:      newLimiter(),
		stats:        map[string]*Counts{},
		subs:         map[*subscriber]struct{}{},
	}
	if cfg.firstUpdateID > 0 {
		s.nextUpdateID = cfg.firstUpdateID
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.http = httptest.NewUnstartedServer(s)
	s.http.Config.ConnContext = withConn
	s.http.Start()
	s.wg.Add(1)
	go s.webhookLoop()
	return s
}

// URL is the base URL to give the client: tg.WithServerURL(srv.URL()).
func (s *Server) URL() string { return s.http.URL }

// Token is the bot token the fake accepts.
func (s *Server) Token() string { return s.token }

// BotUser is the bot's own user, as getMe returns it.
func (s *Server) BotUser() models.User { return s.botUser }

// Close unblocks long polls, held and slow requests, stops webhook delivery
// and subscriptions, and shuts the HTTP server down. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.isClosed = true
		s.mu.Unlock()
		close(s.closed)
		s.bgCancel()
		s.http.CloseClientConnections()
		s.http.Close()
		s.wg.Wait()
	})
}

func (s *Server) now() time.Time { return s.cfg.now() }

func (s *Server) logf(format string, args ...any) {
	if s.cfg.logf != nil {
		s.cfg.logf(format, args...)
	}
}

// notifyLocked wakes everybody waiting for a state change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitLocked waits, with s.mu held, until cond holds, ctx ends or the server
// closes.
func (s *Server) waitLocked(ctx context.Context, cond func() bool) error {
	for !cond() {
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			return ctx.Err()
		case <-s.closed:
			s.mu.Lock()
			return ErrClosed
		}
		s.mu.Lock()
	}
	return nil
}

// ---- HTTP ----

// apiError is an error answer in Telegram's shape.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(msg string) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + msg}
}

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{code: http.StatusTooManyRequests, desc: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), retryAfter: retryAfter}
}

// errGone is returned by a handler when the client went away while it was
// waiting; nothing is answered.
var errGone = &apiError{code: -1}

type okBody struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	Description string `json:"description,omitempty"`
}

type errBody struct {
	OK          bool        `json:"ok"`
	ErrorCode   int         `json:"error_code"`
	Description string      `json:"description"`
	Parameters  *respParams `json:"parameters,omitempty"`
}

type respParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

// withDescription is a handler result that also sets the answer's
// description, as setWebhook does.
type withDescription struct {
	value any
	desc  string
}

// rawResult is a handler result answered as-is (file downloads).
type rawResult struct {
	contentType string
	data        []byte
}

// response is a fully rendered answer.
type response struct {
	status      int
	contentType string
	body        []byte
}

func errorResponse(e *apiError) response {
	b := errBody{OK: false, ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 {
		b.Parameters = &respParams{RetryAfter: e.retryAfter}
	}
	data, _ := json.Marshal(b)
	return response{status: e.code, contentType: "application/json", body: data}
}

func proxyResponse(code int) response {
	text := fmt.Sprintf("%d %s", code, http.StatusText(code))
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
	return response{status: code, contentType: "text/html", body: []byte(body)}
}

func resultResponse(v any) response {
	if raw, ok := v.(rawResult); ok {
		return response{status: http.StatusOK, contentType: raw.contentType, body: raw.data}
	}
	b := okBody{OK: true, Result: v}
	if wd, ok := v.(withDescription); ok {
		b.Result, b.Description = wd.value, wd.desc
	}
	data, err := json.Marshal(b)
	if err != nil {
		return errorResponse(&apiError{code: 500, desc: "Internal Server Error: " + err.Error()})
	}
	return response{status: http.StatusOK, contentType: "application/json", body: data}
}

func (r response) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", r.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(r.body)))
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

// dropConnection closes the client's connection without answering.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// call is one Bot API request being processed.
type call struct {
	ctx  context.Context
	p    *params
	name string
	now  time.Time
	// applied tells a waiting Thaw that the request has taken effect; the
	// handlers that block (getUpdates) call it before blocking.
	applied func()
}

// route splits a request path into token and method. Downloads are the
// pseudo-method "download" with the file path as parameter.
func route(r *http.Request) (token, method, filePath string, ok bool) {
	path := r.URL.Path
	if rest, found := strings.CutPrefix(path, "/file/bot"); found {
		token, filePath, ok = strings.Cut(rest, "/")
		return token, methodDownload, filePath, ok && filePath != ""
	}
	rest, found := strings.CutPrefix(path, "/bot")
	if !found {
		return "", "", "", false
	}
	token, method, ok = strings.Cut(rest, "/")
	method = strings.TrimPrefix(method, "test/")
	return token, method, "", ok && method != "" && !strings.Contains(method, "/")
}

// ServeHTTP implements the Bot API. It is exported so the fake can also be
// mounted in another server; NewServer already serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, filePath, ok := route(r)
	if !ok {
		errorResponse(&apiError{code: http.StatusNotFound, desc: "Not Found"}).write(w)
		return
	}
	p, decodeErr := decodeRequest(r)
	if p != nil && filePath != "" {
		p.setString("file_path", filePath)
	}
	spec, known := lookupMethod(method)
	name := method
	if known {
		name = spec.name
	}

	s.mu.Lock()
	st := s.statsLocked(name)
	st.Calls++
	s.notifyLocked()

	markApplied := func() {}
	if s.frozen {
		h := &heldRequest{method: name, release: make(chan struct{}), decided: make(chan struct{})}
		s.held = append(s.held, h)
		s.notifyLocked()
		s.mu.Unlock()
		select {
		case <-h.release:
		case <-r.Context().Done():
		case <-s.closed:
		}
		s.mu.Lock()
		if !h.released {
			// The client went away (or the server closed) while frozen:
			// Thaw discards the request.
			h.abandoned = true
			s.notifyLocked()
			s.mu.Unlock()
			s.logf("telegramtest: %s abandoned while frozen", name)
			return
		}
		var once sync.Once
		markApplied = func() { once.Do(func() { close(h.decided) }) }
		defer markApplied()
	}
	// A request whose client is already gone is discarded unprocessed, as if
	// it had never reached Telegram.
	if clientGone(r) {
		st.Discarded++
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("telegramtest: %s discarded: client gone", name)
		return
	}

	var resp response
	switch {
	case s.down:
		resp = proxyResponse(http.StatusBadGateway)
	case token != s.token:
		resp = errorResponse(&apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
	case !known:
		resp = errorResponse(&apiError{code: http.StatusNotFound, desc: "Not Found"})
	case decodeErr != nil:
		resp = errorResponse(badRequest(decodeErr.Error()))
	}
	if resp.status != 0 {
		st.addStatus(resp.status)
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("telegramtest: %s -> %d", name, resp.status)
		resp.write(w)
		return
	}

	fault := s.takeFaultLocked(name, p)
	switch fault.kind {
	case faultAPIError:
		resp = errorResponse(&apiError{code: fault.code, desc: fault.description, retryAfter: fault.retryAfter})
	case faultProxy:
		resp = proxyResponse(fault.code)
	case faultDrop:
		st.Dropped++
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("telegramtest: %s -> dropped (fault)", name)
		dropConnection(w)
		return
	}
	if resp.status != 0 {
		st.addStatus(resp.status)
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("telegramtest: %s -> %d (fault %s)", name, resp.status, fault)
		resp.write(w)
		return
	}

	c := &call{ctx: r.Context(), p: p, name: name, now: s.now(), applied: markApplied}
	var (
		result any
		aerr   *apiError
		chatID int64
	)
	limited := spec.sending && s.limits != (Limits{})
	if limited {
		chatID, _, _ = p.int("chat_id")
		if wait := s.limiter.check(s.limits, chatID, c.now); wait > 0 {
			aerr = tooManyRequests(wait)
		}
	}
	if aerr == nil {
		result, aerr = spec.fn(s, c)
	}
	c.applied()
	if aerr == errGone {
		s.mu.Unlock()
		s.logf("telegramtest: %s: client gone", name)
		return
	}
	if aerr == nil && limited {
		s.limiter.record(chatID, c.now)
	}
	if aerr != nil {
		resp = errorResponse(aerr)
	} else {
		// Rendered under the lock: results may share state with the fake.
		resp = resultResponse(result)
	}
	if fault.kind == faultDropResponse {
		st.Dropped++
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("telegramtest: %s -> processed, answer dropped (fault)", name)
		dropConnection(w)
		return
	}
	st.addStatus(resp.status)
	s.notifyLocked()
	s.mu.Unlock()
	if aerr != nil {
		s.logf("telegramtest: %s -> %d %s", name, aerr.code, aerr.desc)
	} else {
		s.logf("telegramtest: %s -> ok", name)
	}
	if fault.kind == faultSlow {
		t := time.NewTimer(fault.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.closed:
		}
		t.Stop()
	}
	resp.write(w)
}

func (s *Server) statsLocked(name string) *Counts {
	c := s.stats[name]
	if c == nil {
		c = &Counts{}
		s.stats[name] = c
	}
	return c
}

// takeFaultLocked consumes the fault that applies to this request, if any:
// FailNext for the method, then FailNext for any method, then FailChat.
func (s *Server) takeFaultLocked(name string, p *params) Fault {
	for _, key := range []string{strings.ToLower(name), "*"} {
		q := s.faults[key]
		if len(q) == 0 {
			continue
		}
		f := q[0].fault
		q[0].remaining--
		if q[0].remaining <= 0 {
			q = q[1:]
		}
		if len(q) == 0 {
			delete(s.faults, key)
		} else {
			s.faults[key] = q
		}
		return f
	}
	if len(s.chatFaults) > 0 && p != nil {
		if id, ok, err := p.int("chat_id"); ok && err == nil {
			if f, found := s.chatFaults[id]; found {
				return f
			}
		}
	}
	return Fault{}
}

// ---- fault injection API ----

// FailNext makes the next n requests to method (Telegram's spelling, case
// insensitive; "*" for any method, "download" for file downloads) fail with
// f. Calls queue up: FailNext(m, 1, a) then FailNext(m, 1, b) fails the next
// two requests with a then b. Method-specific faults win over "*".
func (s *Server) FailNext(method string, n int, f Fault) {
	if n <= 0 || f.IsZero() {
		return
	}
	key := strings.ToLower(method)
	if key == "" {
		key = "*"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[key] = append(s.faults[key], &pendingFault{fault: f, remaining: n})
}

// FailChat makes every request whose chat_id is chatID fail with f (for
// example Forbidden() for a user who blocked the bot) until cleared with
// FailChat(chatID, Fault{}) or ClearFaults. FailNext faults take precedence.
func (s *Server) FailChat(chatID int64, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.IsZero() {
		delete(s.chatFaults, chatID)
		return
	}
	s.chatFaults[chatID] = f
}

// ClearFaults removes all FailNext and FailChat faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*pendingFault{}
	s.chatFaults = map[int64]Fault{}
}

// SetDown makes every request (downloads included) get a 502 HTML page from
// the "proxy" while down is true.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	s.notifyLocked()
}

// SetLimits replaces the flood limits (see WithLimits); Limits{} disables
// them.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
}

// Freeze holds every request that arrives from now on, unprocessed, until
// Thaw. State.Held and State.Abandoned (through WaitFor) tell how many
// requests are held and how many of their clients already went away.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = true
	s.notifyLocked()
}

// Thaw ends Freeze and lets the held requests through one at a time, in
// arrival order: a request whose client already went away is discarded
// without any effect (counted as Discarded), the others are processed. Thaw
// returns once every held request has been discarded or has taken effect
// (getUpdates: its offset is applied; it may still be waiting for updates).
//
// To simulate a crash, Freeze, let the bot send, stop it (so its
// connections are closed, e.g. wait for Bot.Start to return), then Thaw:
// nothing the stopped bot sent takes effect. On Linux, macOS and FreeBSD the
// fake checks the connection itself; elsewhere it relies on the HTTP
// server noticing the disconnection, so wait for State.Abandoned first.
// Requests arriving during Thaw are not held and may overtake held ones.
func (s *Server) Thaw() {
	s.mu.Lock()
	s.frozen = false
	held := s.held
	s.held = nil
	s.notifyLocked()
	s.mu.Unlock()
	for _, h := range held {
		s.mu.Lock()
		if h.abandoned {
			s.statsLocked(h.method).Discarded++
			s.notifyLocked()
			s.mu.Unlock()
			continue
		}
		h.released = true
		close(h.release)
		s.mu.Unlock()
		select {
		case <-h.decided:
		case <-s.closed:
			return
		}
	}
}

// ---- observation API ----

// Calls is the number of requests received for method (Telegram's spelling,
// case insensitive), whatever their outcome.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked(method)
}

func (s *Server) callsLocked(method string) int {
	if spec, ok := lookupMethod(method); ok {
		method = spec.name
	}
	if c := s.stats[method]; c != nil {
		return c.Calls
	}
	return 0
}

// Stats returns the outcome counts per method.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsSnapshotLocked()
}

func (s *Server) statsSnapshotLocked() Stats {
	out := Stats{}
	for k, v := range s.stats {
		out[k] = *v
	}
	return out
}

// Transcript returns the entries of chat chatID in order.
func (s *Server) Transcript(chatID int64) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcriptLocked(chatID, false)
}

// BotMessages returns the messages the bot sent to chatID (deleted ones
// included), in order.
func (s *Server) BotMessages(chatID int64) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcriptLocked(chatID, true)
}

// LastBotMessage returns the last message the bot sent to chatID.
func (s *Server) LastBotMessage(chatID int64) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastBotMessageLocked(chatID)
}

// Message returns the message messageID of chatID (from either side).
func (s *Server) Message(chatID int64, messageID int) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.chats[chatID]; cs != nil {
		if rec := cs.byID[messageID]; rec != nil {
			return rec.entry.clone(), true
		}
	}
	return Entry{}, false
}

// Chats returns the ids of all chats with a transcript, in order of first
// appearance.
func (s *Server) Chats() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.chatOrder...)
}

func (s *Server) transcriptLocked(chatID int64, botOnly bool) []Entry {
	cs := s.chats[chatID]
	if cs == nil {
		return nil
	}
	var out []Entry
	for _, rec := range cs.records {
		if botOnly && !rec.entry.IsBotMessage() {
			continue
		}
		out = append(out, rec.entry.clone())
	}
	return out
}

func (s *Server) countBotMessagesLocked(chatID int64) int {
	cs := s.chats[chatID]
	if cs == nil {
		return 0
	}
	n := 0
	for _, rec := range cs.records {
		if rec.entry.IsBotMessage() {
			n++
		}
	}
	return n
}

func (s *Server) lastBotMessageLocked(chatID int64) (Entry, bool) {
	cs := s.chats[chatID]
	if cs == nil {
		return Entry{}, false
	}
	for i := len(cs.records) - 1; i >= 0; i-- {
		if cs.records[i].entry.IsBotMessage() {
			return cs.records[i].entry.clone(), true
		}
	}
	return Entry{}, false
}

// WaitBotMessages waits until chatID holds at least n bot messages and
// returns all of them. On timeout the error includes the chat's transcript.
func (s *Server) WaitBotMessages(ctx context.Context, chatID int64, n int) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.waitLocked(ctx, func() bool { return s.countBotMessagesLocked(chatID) >= n })
	if err != nil {
		return s.transcriptLocked(chatID, true), fmt.Errorf("telegramtest: waiting for %d bot messages in chat %d, have %d: %w\ntranscript:\n%s",
			n, chatID, s.countBotMessagesLocked(chatID), err, FormatTranscript(s.transcriptLocked(chatID, false)))
	}
	return s.transcriptLocked(chatID, true), nil
}

// WaitFor waits until cond returns true. cond runs with the fake's lock held
// each time its state changes: it must be quick and must only use the State
// it is given (calling Server methods from it deadlocks).
func (s *Server) WaitFor(ctx context.Context, cond func(*State) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &State{s: s}
	err := s.waitLocked(ctx, func() bool { return cond(st) })
	if err != nil {
		return fmt.Errorf("telegramtest: WaitFor: %w", err)
	}
	return nil
}

// State is the read-only view of the fake given to WaitFor conditions. It is
// valid only during the call.
type State struct{ s *Server }

// Transcript is Server.Transcript.
func (st *State) Transcript(chatID int64) []Entry { return st.s.transcriptLocked(chatID, false) }

// BotMessages is Server.BotMessages.
func (st *State) BotMessages(chatID int64) []Entry { return st.s.transcriptLocked(chatID, true) }

// LastBotMessage is Server.LastBotMessage.
func (st *State) LastBotMessage(chatID int64) (Entry, bool) {
	return st.s.lastBotMessageLocked(chatID)
}

// Calls is Server.Calls.
func (st *State) Calls(method string) int { return st.s.callsLocked(method) }

// Stats is Server.Stats.
func (st *State) Stats() Stats { return st.s.statsSnapshotLocked() }

// PendingUpdates is the number of updates not yet confirmed by getUpdates
// (or not yet accepted by the webhook).
func (st *State) PendingUpdates() int { return len(st.s.pending) }

// Polling is the number of getUpdates requests currently waiting for
// updates.
func (st *State) Polling() int { return st.s.polling }

// Held is the number of requests held by Freeze whose client is still
// waiting.
func (st *State) Held() int {
	n := 0
	for _, h := range st.s.held {
		if !h.abandoned {
			n++
		}
	}
	return n
}

// Abandoned is the number of requests held by Freeze whose client already
// went away; Thaw will discard them.
func (st *State) Abandoned() int {
	n := 0
	for _, h := range st.s.held {
		if h.abandoned {
			n++
		}
	}
	return n
}

// WebhookInfo is what getWebhookInfo would answer.
func (st *State) WebhookInfo() models.WebhookInfo { return st.s.webhookInfoLocked() }

// ---- subscriptions ----

type subscriber struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
	out   chan Event
	done  chan struct{}
	once  sync.Once
}

func (sub *subscriber) push(ev Event) {
	sub.mu.Lock()
	sub.queue = append(sub.queue, ev)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscriber) run(closed <-chan struct{}) {
	defer close(sub.out)
	for {
		sub.mu.Lock()
		q := sub.queue
		sub.queue = nil
		sub.mu.Unlock()
		for _, ev := range q {
			select {
			case sub.out <- ev:
			case <-sub.done:
				return
			case <-closed:
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-sub.wake:
		case <-sub.done:
			return
		case <-closed:
			return
		}
	}
}

// Subscribe reports every transcript change (new entries from both sides,
// edits and deletions) as it happens, in order. Events are buffered without
// bound, so a slow reader never blocks the fake. The channel is closed after
// cancel is called or the server is closed.
func (s *Server) Subscribe() (events <-chan Event, cancel func()) {
	sub := &subscriber{wake: make(chan struct{}, 1), out: make(chan Event), done: make(chan struct{})}
	s.mu.Lock()
	if s.isClosed {
		s.mu.Unlock()
		close(sub.out)
		return sub.out, func() {}
	}
	s.subs[sub] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		sub.run(s.closed)
	}()
	return sub.out, func() {
		sub.once.Do(func() {
			s.mu.Lock()
			delete(s.subs, sub)
			s.mu.Unlock()
			close(sub.done)
		})
	}
}

func (s *Server) publishLocked(t EventType, e *Entry) {
	if len(s.subs) == 0 {
		return
	}
	ev := Event{Type: t, Entry: e.clone()}
	for sub := range s.subs {
		sub.push(ev)
	}
}

// ---- chats and transcript records ----

// chatLocked returns the chat with id, creating it if needed: positive ids
// are private chats, ids below -1000000000000 supergroups, other negative
// ids groups.
func (s *Server) chatLocked(id int64) *chatState {
	if cs := s.chats[id]; cs != nil {
		return cs
	}
	chat := models.Chat{ID: id, Type: models.ChatTypePrivate}
	switch {
	case id <= -1000000000000:
		chat.Type = models.ChatTypeSupergroup
		chat.Title = fmt.Sprintf("Group %d", id)
	case id < 0:
		chat.Type = models.ChatTypeGroup
		chat.Title = fmt.Sprintf("Group %d", id)
	}
	cs := &chatState{chat: chat, byID: map[int]*record{}}
	s.chats[id] = cs
	s.chatOrder = append(s.chatOrder, id)
	return cs
}

func (cs *chatState) nextMessageID() int {
	cs.nextID++
	return cs.nextID
}

// appendLocked adds a record to cs and reports it.
func (s *Server) appendLocked(cs *chatState, rec *record) {
	s.seq++
	rec.entry.Seq = s.seq
	rec.entry.ChatID = cs.chat.ID
	cs.records = append(cs.records, rec)
	if rec.msg != nil {
		cs.byID[rec.msg.ID] = rec
	}
	s.publishLocked(EventNew, &rec.entry)
	s.notifyLocked()
}

// ---- updates ----

// updateType is the allowed_updates name of u's content.
func updateType(u *models.Update) string {
	switch {
	case u.Message != nil:
		return models.AllowedUpdateMessage
	case u.EditedMessage != nil:
		return models.AllowedUpdateEditedMessage
	case u.ChannelPost != nil:
		return models.AllowedUpdateChannelPost
	case u.EditedChannelPost != nil:
		return models.AllowedUpdateEditedChannelPost
	case u.CallbackQuery != nil:
		return models.AllowedUpdateCallbackQuery
	case u.InlineQuery != nil:
		return models.AllowedUpdateInlineQuery
	case u.MyChatMember != nil:
		return models.AllowedUpdateMyChatMember
	case u.ChatMember != nil:
		return models.AllowedUpdateChatMember
	case u.MessageReaction != nil:
		return models.AllowedUpdateMessageReaction
	case u.MessageReactionCount != nil:
		return models.AllowedUpdateMessageReactionCount
	case u.PollAnswer != nil:
		return models.AllowedUpdatePollAnswer
	case u.Poll != nil:
		return models.AllowedUpdatePoll
	case u.ChatJoinRequest != nil:
		return models.AllowedUpdateChatJoinRequest
	}
	return ""
}

// enqueueLocked assigns an update id when upd has none and queues it for
// delivery, unless allowed_updates excludes its type (Telegram does not keep
// such updates). It returns the update id.
func (s *Server) enqueueLocked(upd models.Update) int64 {
	if upd.ID == 0 {
		upd.ID = s.nextUpdateID
	}
	if upd.ID >= s.nextUpdateID {
		s.nextUpdateID = upd.ID + 1
	}
	typ := updateType(&upd)
	allowed := true
	if s.allowed != nil {
		allowed = s.allowed[typ]
	} else {
		switch typ {
		case models.AllowedUpdateChatMember, models.AllowedUpdateMessageReaction, models.AllowedUpdateMessageReactionCount:
			allowed = false
		}
	}
	if allowed {
		s.pending = append(s.pending, upd)
	}
	s.notifyLocked()
	return upd.ID
}

// setAllowedLocked applies an allowed_updates parameter, if present.
func (s *Server) setAllowedLocked(p *params) *apiError {
	if !p.has("allowed_updates") {
		return nil
	}
	var list []string
	if _, err := p.json("allowed_updates", &list); err != nil {
		return badRequest("can't parse allowed updates")
	}
	if len(list) == 0 {
		s.allowed = nil
		return nil
	}
	s.allowed = map[string]bool{}
	for _, t := range list {
		s.allowed[t] = true
	}
	return nil
}
