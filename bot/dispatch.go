package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/clock"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/go-telegram/bot/models"
)

// queueCap bounds the updates a shard keeps in memory on top of the
// inbox (Shards × queueCap in all): beyond it the poller waits and the
// webhook answers 503 before storing, so Telegram keeps the update.
const queueCap = 256

// update is an accepted update on its way through dispatch, with the
// update decoded when it arrived (u is nil for one read back from the
// inbox: it is decoded when processed). Once: not again in every try of
// its transaction.
type update struct {
	bansosbot.InboxItem
	u *models.Update
}

// decoded is the update decoded.
func (up update) decoded() (*models.Update, error) {
	if up.u != nil {
		return up.u, nil
	}
	u := new(models.Update)
	if err := json.Unmarshal(up.Update, u); err != nil {
		return nil, fmt.Errorf("decode update %d: %w", up.UpdateID, err)
	}
	return u, nil
}

// storeBackoffCap caps the wait between tries of an update while the
// store cannot write.
const storeBackoffCap = 5 * time.Second

// queue is one shard's updates waiting for dispatch, in arrival order. It
// never blocks the producer: a full shard must not hold the poller or
// Telegram's single webhook connection (every other chat would stall).
type queue struct {
	mu    sync.Mutex
	items []update
	// tracked counts, per update id, the copies queued or being
	// processed, so the sweep leaves them alone.
	tracked map[int64]int
	ready   chan struct{} // 1-buffered: items were added
}

func newQueue() *queue {
	return &queue{tracked: map[int64]int{}, ready: make(chan struct{}, 1)}
}

func (q *queue) push(it update) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.tracked[it.UpdateID]++
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop waits for the next update; ok is false once ctx is done.
func (q *queue) pop(ctx context.Context) (it update, ok bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it = q.items[0]
			q.items[0] = update{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return it, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return it, false
		case <-q.ready:
		}
	}
}

// done forgets one copy of an update popped earlier.
func (q *queue) done(id int64) {
	q.mu.Lock()
	if q.tracked[id]--; q.tracked[id] <= 0 {
		delete(q.tracked, id)
	}
	q.mu.Unlock()
}

// clear forgets every queued update (not the one being processed) and
// returns how many there were.
func (q *queue) clear() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items)
	for _, it := range q.items {
		if q.tracked[it.UpdateID]--; q.tracked[it.UpdateID] <= 0 {
			delete(q.tracked, it.UpdateID)
		}
	}
	q.items = nil
	return n
}

func (q *queue) has(id int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.tracked[id] > 0
}

func (s *Server) shardOf(chatID int64) *queue { return s.shards[s.shardIndex(chatID)] }

// shardIndex is the chat's shard, the same on every replica.
func (s *Server) shardIndex(chatID int64) int {
	n := chatID % int64(s.cfg.Shards)
	if n < 0 {
		n = -n
	}
	return int(n)
}

// dispatchAccepted hands freshly accepted updates on: to their shards in
// this process, with the updates decoded at ingestion (by update id), or
// (shared) to the inbox scan, which dispatches them on the replica
// holding their shard, in update order.
func (s *Server) dispatchAccepted(fresh []bansosbot.InboxItem, decoded map[int64]*models.Update) {
	if s.cfg.Shared {
		if len(fresh) > 0 {
			select {
			case s.scan <- struct{}{}:
			default:
			}
		}
		return
	}
	for _, it := range fresh {
		s.enqueueDispatch(it, decoded[it.UpdateID])
	}
}

// scanPage is how many inbox items the shared inbox scan reads at once.
const scanPage = queueCap

// scanInbox (shared mode) reads the inbox every cfg.Scan, or at once when
// this replica accepted something, and dispatches the items of the
// shards this replica holds that no shard has queued yet, in update
// order. An update committed before another is in every snapshot that
// holds the later one, so a chat's updates reach its shard in order
// whichever replica accepted them.
//
// It reads on from where it stopped (from: every item before it was
// handed over or passed over), so an inbox holding a long backlog (the
// other replicas' shards, or what waits while the shards are full) is
// not read and decoded again on every pass. It reads from the start again
// when what it passed over may now be its to dispatch: a shard was taken
// (gained moved on since the items were passed over), or a shard left an
// update and those behind it in the inbox (leaveShard). What is accepted
// later has a higher update id (Telegram numbers them in order, and each
// is acknowledged before the next is sent), so reading on finds it. An
// update with a lower one all the same (Telegram starts again from a
// random number after a week without updates) is found by a pass from the
// start every Redispatch at the latest, as one process's sweep finds what
// was left in its inbox (shared mode has no sweep: this scan is it).
func (s *Server) scanInbox(ctx context.Context) {
	var from int64
	var gen uint64     // s.leases.gained when the items before from were passed over
	var full time.Time // when a pass last read from the start
	for {
		now := s.cfg.Clock.Now()
		if s.rescan.Swap(false) || s.leases.gained.Load() != gen || now.Sub(full) >= s.cfg.Redispatch {
			from, gen = 0, s.leases.gained.Load()
		}
		if from == 0 {
			full = now
		}
		again := false
		for more := true; more && !again; {
			pending, err := s.db.PendingFrom(from, scanPage)
			if err != nil {
				s.log.Warn("inbox scan", "err", err)
				break
			}
			more = len(pending) == scanPage
			s.scanMu.Lock()
			for _, it := range pending {
				if s.busy() {
					more = false
					break // the shards hold all they may keep in memory; the rest waits in the inbox, in order
				}
				held := s.leases.holds(shardLease(s.shardIndex(it.ChatID)))
				if s.leases.gained.Load() != gen {
					// A shard was taken during this pass (counted before
					// it shows as held): its items passed over earlier
					// must go before this one. Read the inbox again.
					again = true
					break
				}
				from = it.UpdateID + 1
				if !held || s.shardOf(it.ChatID).has(it.UpdateID) {
					continue
				}
				s.enqueueDispatch(it, nil)
			}
			s.scanMu.Unlock()
		}
		if again {
			continue
		}
		t := clock.Real.NewTimer(s.cfg.Scan) // between replicas: wall time, like the leases
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.scan:
		case <-t.C():
		}
		t.Stop()
	}
}

// leaveShard is what a shard does with an update it may not process (its
// lease moved, or lapsed for a moment): it leaves it in the inbox and
// forgets what it queued behind it, which the scan of whichever replica
// holds the shard next dispatches again in update order. Processing a
// later update of the chat first would break the chat's order.
func (s *Server) leaveShard(it bansosbot.InboxItem) {
	s.scanMu.Lock() // not halfway through a scan's hand-over
	q := s.shardOf(it.ChatID)
	n := q.clear()
	// Nor is the update itself queued any more: the next scan must
	// dispatch it before what follows it (runShard's done for it is
	// then one too many, which forgets at worst a copy the scan queued
	// meanwhile; the next scan queues it again, and a copy of an update
	// already processed is skipped).
	q.done(it.UpdateID)
	s.rescan.Store(true) // what the scan handed over from the inbox is there again
	s.scanMu.Unlock()
	s.backlog.Add(-int64(n))
	select {
	case s.room <- struct{}{}:
	default:
	}
}

// enqueueDispatch hands an accepted update (decoded, or nil) to its
// chat's shard without waiting. Updates of one chat always go to the same
// shard, in the order they arrive here.
func (s *Server) enqueueDispatch(it bansosbot.InboxItem, u *models.Update) {
	s.backlog.Add(1)
	s.shardOf(it.ChatID).push(update{it, u})
}

// busy reports whether the shards hold as many updates as they may keep
// in memory.
func (s *Server) busy() bool {
	return s.backlog.Load() >= int64(len(s.shards)*queueCap)
}

// waitRoom waits until the shards are not busy (false once ctx is done).
func (s *Server) waitRoom(ctx context.Context) bool {
	for s.busy() {
		select {
		case <-ctx.Done():
			return false
		case <-s.room:
		}
	}
	return true
}

func (s *Server) runShard(ctx context.Context, q *queue) {
	for {
		it, ok := q.pop(ctx)
		if !ok {
			return
		}
		s.process(ctx, it)
		if s.afterProcess != nil {
			s.afterProcess(it.InboxItem)
		}
		q.done(it.UpdateID)
		s.backlog.Add(-1)
		select {
		case s.room <- struct{}{}:
		default:
		}
	}
}

// sweep dispatches again, every cfg.Redispatch, the inbox items older than
// that which no shard holds: an update stored but never handed over (or
// given up) would otherwise wait for the next restart, and Telegram's
// retries of it are deduplicated away.
func (s *Server) sweep(ctx context.Context) {
	for clock.Sleep(ctx, s.cfg.Clock, s.cfg.Redispatch) {
		s.redispatch()
	}
}

func (s *Server) redispatch() {
	pending, err := s.db.Pending()
	if err != nil {
		s.log.Warn("sweep: read inbox", "err", err)
		return
	}
	before := s.cfg.Clock.Now().Add(-s.cfg.Redispatch)
	n := 0
	for _, it := range pending {
		if it.ReceivedAt.After(before) || s.shardOf(it.ChatID).has(it.UpdateID) {
			continue
		}
		s.enqueueDispatch(it, nil)
		n++
	}
	if n > 0 {
		s.log.Warn("sweep: dispatching updates left in the inbox", "count", n)
	}
}

// panicError carries a recovered panic out of a transaction function.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// process handles one update: the flows engine, the replies and the
// processed mark in one group-committed transaction. A handler failure
// that repeats parks the update as a dead letter and apologises to the
// user, so one bad update never blocks its chat. A store that cannot
// write (a full disk, an unreachable database) is not the update's fault:
// the update stays in the inbox and is tried again, on its shard (so its
// chat's order holds), with a backoff capped at storeBackoffCap, until the
// store writes again or the server stops; it is never parked for that.
func (s *Server) process(ctx context.Context, up update) {
	it := up.InboxItem
	start := s.cfg.Clock.Now()
	kind := "other"
	var tr *updateTrace // what BANSOSBOT_LOG=debug tells of the update
	if s.log.Enabled(ctx, slog.LevelDebug) {
		tr = &updateTrace{}
	}
	shard := shardLease(s.shardIndex(it.ChatID))
	token, held := s.leases.token(shard)
	if !held {
		s.leaveShard(it) // the shard moved to another replica: the update waits for it in the inbox
		return
	}
	u, derr := up.decoded()
	var err error
	var backoff time.Duration // between tries after write failures
	for attempt := 1; ; {
		err = s.db.Batch(func(tx Tx) error {
			if err := s.leases.check(tx, shard, token); err != nil {
				return err // fenced off: another replica holds the shard now
			}
			// Taken for this transaction: another replica's finds it
			// taken (ErrUpdateTaken, a lost lease) without waiting.
			if done, err := tx.ClaimUpdate(it.UpdateID); err != nil || done {
				return err // done: handled before a restart, or delivered twice
			}
			o, k, err := s.handle(ctx, tx, u, derr, tr)
			kind = k
			if err != nil {
				return err
			}
			if err := s.commitOutcome(tx, o); err != nil {
				return err
			}
			return tx.MarkProcessed(it.UpdateID)
		})
		var pe *panicError
		if err == nil || errors.As(err, &pe) || ctx.Err() != nil || errors.Is(err, bansosbot.ErrLeaseLost) {
			break
		}
		if bansosbot.IsWriteError(err) {
			if backoff == 0 {
				s.log.Error("store cannot write; the update stays in the inbox and is tried again", "update_id", it.UpdateID, "err", err)
			}
			backoff = nextBackoff(backoff, storeBackoffCap)
			if !clock.Sleep(ctx, s.cfg.Clock, backoff) {
				break // stopping: left in the inbox below
			}
			continue
		}
		if attempt == 3 {
			break
		}
		if !clock.Sleep(ctx, s.cfg.Clock, time.Duration(attempt)*50*time.Millisecond) {
			break
		}
		attempt++
	}
	if err == nil && backoff > 0 {
		s.log.Info("store writes again; update handled", "update_id", it.UpdateID, "waited", clock.Since(s.cfg.Clock, start).Round(time.Millisecond))
	}
	if err == nil {
		s.cfg.Metrics.handled(kind, "ok", clock.Since(s.cfg.Clock, start))
		if tr != nil {
			tr.log(s.log, it.UpdateID, kind, clock.Since(s.cfg.Clock, start))
		}
		s.kick()
		return
	}
	if ctx.Err() != nil {
		// Stopping: the update stays in the inbox, and so must the ones
		// queued behind it (the shard would otherwise go on with them
		// while it drains, and the chat's order would break).
		s.leaveShard(it)
		return
	}
	if errors.Is(err, bansosbot.ErrLeaseLost) {
		s.log.Info("shard moved to another replica; the update is left to it", "update_id", it.UpdateID)
		s.leaveShard(it)
		return
	}
	reason := "error"
	var pe *panicError
	if errors.As(err, &pe) {
		reason = "panic"
		// The update id identifies the case; the update's content stays out
		// of the log (it may hold a NIK).
		s.log.Error("handler panicked; update parked as a dead letter", "update_id", it.UpdateID, "panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
	} else {
		s.log.Error("update failed; parked as a dead letter", "update_id", it.UpdateID, "err", err)
	}
	s.cfg.Metrics.handled(kind, reason, clock.Since(s.cfg.Clock, start))
	perr := s.db.Update(func(tx Tx) error {
		if err := s.leases.check(tx, shard, token); err != nil {
			return err
		}
		if err := tx.ParkUpdate(it, reason); err != nil {
			return err
		}
		if it.ChatID == 0 {
			return nil
		}
		lang := "id"
		if u != nil {
			if in, ok := toInput(u); ok {
				if p, _ := tx.Profile(in.UserID); p != nil && p.Lang != "" {
					lang = p.Lang
				}
			}
		}
		return s.enqueueReplies(tx, []flows.Reply{{Action: flows.Send, ChatID: it.ChatID, Lang: lang, Text: []flows.Msg{flows.T("general.error")}}})
	})
	if errors.Is(perr, bansosbot.ErrLeaseLost) {
		s.leaveShard(it) // another replica holds the shard now: it tries the update again
		return
	}
	if perr != nil {
		s.log.Error("park update", "update_id", it.UpdateID, "err", perr)
		return
	}
	s.cfg.Metrics.deadLetter("update")
	s.kick()
}

// updateTrace is what the debug log says of one update: the flow and
// state of the user's conversation before and after it and the number of
// replies. Never text, names or NIKs: flow and state names come from the
// code.
type updateTrace struct {
	fromFlow, fromState, toFlow, toState string
	replies                              int
}

// session notes the flow and state of the user's session.
func sessionState(tx Tx, userID int64) (flow, state string) {
	ss, err := tx.Session(userID)
	if err != nil || ss == nil || ss.Flow == "" {
		return "-", "-"
	}
	return ss.Flow, ss.State
}

func (tr *updateTrace) log(l *slog.Logger, updateID int64, kind string, took time.Duration) {
	flow := tr.toFlow
	if flow == "-" || flow == "" {
		flow = tr.fromFlow
	}
	l.Debug("update handled", "update_id", updateID, "kind", kind, "flow", flow,
		"state", tr.fromState+" -> "+tr.toState, "replies", tr.replies, "took", took)
}

// handle runs the engine for one update (u; derr when it could not be
// decoded), turning a panic into an error; tr, when not nil, gets the
// trace of the update for the debug log.
func (s *Server) handle(ctx context.Context, tx Tx, u *models.Update, derr error, tr *updateTrace) (o flows.Outcome, kind string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	if derr != nil {
		return o, "invalid", derr
	}
	if m := u.MyChatMember; m != nil {
		return o, "member", s.chatMember(tx, m)
	}
	in, ok := toInput(u)
	if !ok {
		return o, "ignored", nil
	}
	if tr != nil {
		tr.fromFlow, tr.fromState = sessionState(tx, in.UserID)
	}
	o, err = s.engine.Handle(ctx, tx, in)
	if tr != nil && err == nil {
		tr.toFlow, tr.toState = sessionState(tx, in.UserID)
		tr.replies = len(o.Replies)
	}
	return o, in.Kind(), err
}

// chatMember records a user blocking (or unblocking) the bot.
func (s *Server) chatMember(tx Tx, m *models.ChatMemberUpdated) error {
	if m.Chat.Type != models.ChatTypePrivate {
		return nil
	}
	p, err := tx.Profile(m.From.ID)
	if err != nil || p == nil {
		return err
	}
	p.Unreachable = m.NewChatMember.Type == models.ChatMemberTypeBanned
	return tx.PutProfile(p)
}

// commitOutcome stores what a handler or a job produced, in the caller's
// transaction: the replies in the outbox, the counts in the store's event
// counters.
func (s *Server) commitOutcome(tx Tx, o flows.Outcome) error {
	if err := addCounts(tx, o.Counts); err != nil {
		return err
	}
	return s.enqueueReplies(tx, o.Replies)
}

// enqueueReplies renders replies and stores them in the outbox, in the
// caller's transaction.
func (s *Server) enqueueReplies(tx Tx, replies []flows.Reply) error {
	calls, err := s.cfg.Renderer.Render(replies)
	if err != nil {
		return err
	}
	for _, c := range calls {
		payload, err := json.Marshal(c)
		if err != nil {
			return err
		}
		item := bansosbot.OutboxItem{ChatID: c.ChatID, Payload: payload, Announcement: c.Ann, CreatedAt: s.cfg.Clock.Now()}
		if _, err := tx.Enqueue(item); err != nil {
			return err
		}
	}
	return nil
}
