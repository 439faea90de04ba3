// Package bot connects bansosbot to Telegram. It is the only importer of
// github.com/go-telegram/bot (as tg), whose types and methods it uses, but
// it owns ingestion instead of using tg's Start():
//
//   - updates are received by long polling (getUpdates with the offset kept
//     in the store) or by webhook, written to a durable inbox and
//     deduplicated by update_id before Telegram is told they arrived;
//   - a dispatcher processes each chat's updates in order (one shard per
//     chat_id modulo N), different chats in parallel; the flows engine runs
//     in one group-committed transaction that also stores the replies in
//     the outbox, writes the counts the engine returned with them
//     (flows.Outcome: the metrics' event counters) and marks the update
//     processed;
//   - the outbox sender delivers replies within Telegram's rate limits,
//     honouring retry_after, retrying transient failures, and parking what
//     cannot be delivered as dead letters.
//
// The package does not know the store it runs on: it says what it needs
// of one in small interfaces (db.go), over the root package's records
// (bansosbot.InboxItem, OutboxItem, Lease):
//
//   - Inbox: accept updates deduplicated by update id, with the polling
//     offset; the pending ones in update order;
//   - Outbox: the queued calls in order, delivered marks, rescheduling,
//     parking, the delivered prompts;
//   - Leases: named leases with fencing tokens, for replicas (lease.go);
//   - Gauges: what the metrics read at scrape time;
//   - Tx: one transaction, a flows.Store plus the writes that commit with
//     the flows' (processed marks, parked updates, outbox items, lease
//     checks, event counters);
//   - DB: all of them, with View, Update and Batch of that Tx (a function
//     may run more than once, so it works only through its Tx).
//
// cmd/bansosbot wires store.DB (bbolt or PostgreSQL) in with Adapt, and
// .ci/imports keeps this package from importing the store.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/clock"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// DefaultAPIURL is Telegram's public Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Limits are the send limits the outbox keeps (Telegram's: about 30
// messages per second overall, one per second per chat, 20 per minute per
// group).
type Limits struct {
	Global         int           // messages per second, all chats
	PerChat        time.Duration // minimum gap between two messages to one private chat
	GroupPerMinute int           // messages per minute to one group
	// GroupWindow is the window of GroupPerMinute (default a minute;
	// tests shorten it).
	GroupWindow time.Duration
	// Margin is added to every window as a safety (the windows are kept on
	// answer times, which already covers network delays).
	Margin time.Duration
}

// Config configures a Server.
type Config struct {
	Token  string
	APIURL string // default DefaultAPIURL

	// Webhook mode when WebhookURL is set; long polling otherwise.
	WebhookURL    string
	WebhookListen string // address the webhook server listens on
	WebhookSecret string
	// WebhookServe: when false, the caller mounts WebhookHandler itself.
	WebhookServe bool
	// Timeouts of the webhook listener (zero fields: the defaults).
	Timeouts ListenerTimeouts

	PollTimeout time.Duration // long-poll timeout (default 50s)
	Shards      int           // dispatch shards (default 64)
	Limits      Limits
	// A message failing with transient errors is parked once it has had
	// MaxAttempts tries (default 12) and is older than MaxAge (default
	// 24 h, as long as Telegram keeps updates).
	MaxAttempts int
	MaxAge      time.Duration
	MaxBackoff  time.Duration // cap of the retry backoff (default 1 minute)
	Workers     int           // concurrent sends (default 32)
	// Redispatch: inbox items older than this that no shard holds are
	// dispatched again, checked this often (default 1 minute).
	Redispatch time.Duration

	// Shared: other replicas run on the same database (PostgreSQL); the
	// work is divided by leases (lease.go). Off with bbolt: one process.
	Shared bool
	// ReplicaID names this replica in the leases (default
	// DefaultReplicaID()).
	ReplicaID string
	// LeaseTTL is how long a lease lasts unless renewed (default 5 s),
	// LeaseRenew how often they are renewed (default 1 s): a killed
	// replica's work moves to the others within LeaseTTL.
	LeaseTTL, LeaseRenew time.Duration
	// Scan is how often a shared replica reads the inbox for updates its
	// shards got through the other replicas (default 100 ms).
	Scan time.Duration

	Log *slog.Logger
	// Clock is the time of the outbox's retries and send windows, the
	// dispatcher's retries, the inbox sweep, the poller's backoff and the
	// health checks (default clock.Real; tests inject a fake one).
	Clock clock.Clock
	// HTTPClient for Bot API calls (default: a client with sane timeouts).
	HTTPClient *http.Client
	Renderer   *Renderer
	Metrics    *Metrics // optional
}

func (c *Config) setDefaults() {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = 50 * time.Second
	}
	if c.Shards <= 0 {
		c.Shards = 64
	}
	if c.Limits.Global <= 0 {
		c.Limits.Global = 30
	}
	if c.Limits.PerChat <= 0 {
		c.Limits.PerChat = time.Second
	}
	if c.Limits.GroupPerMinute <= 0 {
		c.Limits.GroupPerMinute = 20
	}
	if c.Limits.GroupWindow <= 0 {
		c.Limits.GroupWindow = time.Minute
	}
	if c.Limits.Margin <= 0 {
		c.Limits.Margin = 5 * time.Millisecond
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.Redispatch <= 0 {
		c.Redispatch = time.Minute
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.ReplicaID == "" {
		c.ReplicaID = DefaultReplicaID()
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 5 * time.Second
	}
	if c.LeaseRenew <= 0 {
		c.LeaseRenew = time.Second
	}
	if c.Scan <= 0 {
		c.Scan = 100 * time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clock.Real
	}
	if c.HTTPClient == nil {
		// All calls go to one host: keep enough idle connections for every
		// worker and the poller (the default keeps 2 and redials the rest).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = c.Workers+8, c.Workers+8
		c.HTTPClient = &http.Client{Timeout: c.PollTimeout + 15*time.Second, Transport: tr}
	}
	if c.Renderer == nil {
		c.Renderer = NewRenderer(locales.MustDefault(), nil)
	}
}

// Handler is what runs one input: flows.Engine, or a wrapper of it. The
// outcome's counts are written with its replies (metrics.go).
type Handler interface {
	Handle(ctx context.Context, tx flows.Store, in flows.Input) (flows.Outcome, error)
	Commands() []flows.Command
}

var _ Handler = (*flows.Engine)(nil)

// Server runs the pipeline.
type Server struct {
	cfg    Config
	db     DB
	engine Handler
	api    *tg.Bot
	log    *slog.Logger

	cancel     context.CancelFunc // stops inputs and dispatch
	sendCancel context.CancelFunc // stops the sender
	inputs     sync.WaitGroup     // poller / webhook server
	dispatch   sync.WaitGroup     // shards
	sending    sync.WaitGroup     // sender
	shards     []*queue
	backlog    atomic.Int64  // updates queued or being processed, all shards
	room       chan struct{} // a shard took an update off its queue
	wake       chan struct{} // tells the sender the outbox grew
	httpSrv    *http.Server
	health     health
	leases     *leases
	scan       chan struct{} // tells the inbox scanner (shared mode) to look now
	rescan     atomic.Bool   // tells it to read the inbox from its start (leaveShard)
	scanMu     sync.Mutex    // a scan's hand-over vs a shard forgetting its queue

	afterProcess func(bansosbot.InboxItem) // test hook: a shard finished an update
}

// New builds a server; Open starts it.
func New(cfg Config, db DB, engine Handler) (*Server, error) {
	cfg.setDefaults()
	if cfg.Token == "" {
		return nil, errors.New("bot: no token")
	}
	api, err := tg.New(cfg.Token,
		tg.WithServerURL(cfg.APIURL),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient),
		tg.WithErrorsHandler(func(err error) { cfg.Log.Debug("telegram client", "err", err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	s := &Server{cfg: cfg, db: db, engine: engine, api: api, log: cfg.Log, wake: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	s.health.clock = cfg.Clock
	s.leases = newLeases(s)
	s.scan = make(chan struct{}, 1)
	return s, nil
}

// API is the Telegram client (for doctor checks and the chart sender).
func (s *Server) API() *tg.Bot { return s.api }

// Open starts the sender, the dispatcher (first with what the inbox kept
// from before a restart) and the poller or webhook. When it fails, what
// it started is stopped again (what was queued stays in the store).
func (s *Server) Open(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			s.Kill()
			s.cancel, s.sendCancel, s.httpSrv = nil, nil, nil
		}
	}()
	sctx, sendCancel := context.WithCancel(context.WithoutCancel(ctx))
	s.sendCancel = sendCancel
	if s.cfg.Shared {
		singletons := []string{leaseSender, leaseCron}
		if s.cfg.WebhookURL == "" {
			singletons = append(singletons, leasePoller)
		}
		if err := s.leases.tick(singletons); err != nil {
			return fmt.Errorf("bot: leases: %w", err)
		}
		s.sending.Add(1) // the leases outlive dispatch: renewed until the sender stops
		go func() { defer s.sending.Done(); s.leases.run(sctx, singletons) }()
	}
	s.sending.Add(1)
	go func() { defer s.sending.Done(); s.runSender(sctx) }()

	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.shards = make([]*queue, s.cfg.Shards)
	for i := range s.shards {
		s.shards[i] = newQueue()
		s.dispatch.Add(1)
		go func(q *queue) { defer s.dispatch.Done(); s.runShard(ictx, q) }(s.shards[i])
	}
	s.dispatch.Add(1)
	if s.cfg.Shared {
		// The inbox scan finds what the other replicas accepted, and what
		// was accepted before a restart.
		go func() { defer s.dispatch.Done(); s.scanInbox(ictx) }()
	} else {
		go func() { defer s.dispatch.Done(); s.sweep(ictx) }()
	}
	var pending []bansosbot.InboxItem
	if !s.cfg.Shared { // shared: the scan dispatches what each replica's shards hold
		pending, err = s.db.Pending()
	}
	if err != nil {
		return fmt.Errorf("bot: read inbox: %w", err)
	}
	if len(pending) > 0 {
		s.log.Info("resuming updates accepted before the restart", "count", len(pending))
	}
	for _, it := range pending {
		s.enqueueDispatch(it, nil)
	}
	s.registerCommands(ictx)
	if s.cfg.WebhookURL != "" {
		return s.startWebhook(ictx)
	}
	if err := s.deleteWebhook(ictx); err != nil {
		s.log.Warn("deleteWebhook failed; polling anyway", "err", err)
	}
	s.inputs.Add(1)
	go func() { defer s.inputs.Done(); s.poll(ictx) }()
	return nil
}

// Close shuts down in order: stop inputs, finish the updates being
// dispatched, give the outbox a moment to flush, stop the sender. The
// store stays open (the caller closes it last).
func (s *Server) Close() error {
	if s.cancel == nil {
		return nil
	}
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.httpSrv.Shutdown(ctx)
		cancel()
	}
	s.cancel()
	s.inputs.Wait()
	s.dispatch.Wait()
	if !s.leases.holds(leaseSender) {
		// Another replica sends the outbox.
	} else if err := s.Flush(3 * time.Second); err != nil {
		s.log.Warn("stopping with undelivered messages; they are sent at the next start", "err", err)
	}
	s.sendCancel()
	s.sending.Wait()
	s.leases.release()
	return nil
}

// Kill stops everything at once without draining or flushing, as close to
// a crash as a test can get in-process: what was accepted stays in the
// inbox and outbox for the next start.
func (s *Server) Kill() {
	if s.httpSrv != nil {
		_ = s.httpSrv.Close()
	}
	if s.cancel != nil {
		s.cancel()
		s.sendCancel()
	}
	s.inputs.Wait()
	s.dispatch.Wait()
	s.sending.Wait()
}

// Flush waits until the outbox is empty, or fails after d.
//
// d is wall time, whatever Config.Clock is: it bounds how long a stop
// takes (a service manager's stop timeout is real), and a test's fake
// clock standing still must not hang Close.
func (s *Server) Flush(d time.Duration) error {
	deadline := clock.Real.Now().Add(d)
	for {
		n, err := s.db.OutboxDepth()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if clock.Real.Now().After(deadline) {
			return fmt.Errorf("bot: %d messages still in the outbox after %s", n, d)
		}
		clock.Sleep(context.Background(), clock.Real, 20*time.Millisecond)
	}
}

// RunJob runs a scheduled job's policy in one transaction and queues its
// replies and writes its counts in the same transaction (escalations,
// digests, auto-close).
func (s *Server) RunJob(ctx context.Context, name string, fn func(tx Tx) (flows.Outcome, error)) error {
	token, ok := s.leases.token(leaseCron)
	if !ok {
		return fmt.Errorf("job %s: %w", name, bansosbot.ErrLeaseLost)
	}
	err := s.db.Update(func(tx Tx) error {
		if err := s.leases.check(tx, leaseCron, token); err != nil {
			return err
		}
		o, err := fn(tx)
		if err != nil {
			return err
		}
		return s.commitOutcome(tx, o)
	})
	if err != nil {
		return fmt.Errorf("job %s: %w", name, err)
	}
	s.kick()
	return nil
}

// kick wakes the sender.
func (s *Server) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// registerCommands sets the command menu per language (best effort: the
// bot works without it).
func (s *Server) registerCommands(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r := s.cfg.Renderer
	for _, lang := range []string{"id", "en"} {
		var cmds []models.BotCommand
		for _, c := range s.engine.Commands() {
			if c.Staff {
				continue
			}
			name := c.Names[lang]
			if name == "" {
				name = c.Names["id"]
			}
			cmds = append(cmds, models.BotCommand{Command: name, Description: html2plain(r.Msg(lang, flows.T(c.Desc)))})
		}
		code := lang
		if lang == "id" {
			code = "" // the default for every language without its own list
		}
		if _, err := s.api.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: cmds, LanguageCode: code}); err != nil {
			s.log.Warn("setMyCommands failed", "lang", lang, "err", err)
			return
		}
		if lang == "id" {
			if _, err := s.api.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: cmds, LanguageCode: "id"}); err != nil {
				s.log.Warn("setMyCommands failed", "lang", lang, "err", err)
				return
			}
		}
	}
}
