package bot

import (
	"container/heap"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/clock"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// sender delivers the outbox. It loads new items in id order into one FIFO
// queue per chat, keeps at most one call per chat in flight (so a chat's
// messages arrive in order), and starts a call only when the chat's and
// the global send windows allow it. State here is only a cache of the
// outbox: after a restart it is rebuilt from the store.
//
// The chats with a queue and no call in flight wait in heaps, so a wake-up
// costs the log of the chats it touches, not a sort of all of them:
// later holds those whose head may not go yet for reasons of its own
// (its retry time, the chat's gap, the group's window), earliest first;
// the chats whose time has come move to ready (heads that count against
// the send limits) or free (those that do not), oldest head first, as
// before: no chat starves. Each head is decoded once, when it becomes the
// head.
type sender struct {
	s     *Server
	chats map[int64]*chatQueue // chats with queued items
	later chatHeap             // idle chats waiting for their own time, by at
	ready chatHeap             // idle chats due, head counting, by head id
	free  chatHeap             // idle chats due, head not counting, by head id
	// feed hands out the outbox items not loaded yet (each once, also
	// those committed late with a smaller id by a concurrent writer).
	feed bansosbot.OutboxFeed

	readyAt map[int64]time.Time   // earliest next send per chat
	groups  map[int64][]time.Time // recent sends per group chat
	recent  []time.Time           // recent sends, all chats (global window)

	// progress lists the chats with queued items by when they last made
	// progress (their first item was loaded or their previous one went
	// out), least recent first: the clock only moves on, so a chat that
	// makes progress goes to the back. A chat held back by its send
	// window makes progress; a stuck one does not.
	progress list.List
	// counting is the number of calls in flight that count against the
	// send limits.
	counting int
	results  chan result
	marks    *marks
	// calls is the context of the Telegram calls (default run's): a
	// sender that loses its lease stops starting calls, while those
	// under way finish (lease.go).
	calls context.Context
}

// chatQueue is one chat's waiting items.
type chatQueue struct {
	id    int64
	items []bansosbot.OutboxItem
	head  call      // items[0], decoded
	at    time.Time // when the head may go as far as the chat is concerned
	since time.Time // last progress
	elem  *list.Element
}

type result struct {
	item bansosbot.OutboxItem
	c    call
	err  error
	took time.Duration // the Telegram call
}

func newSender(s *Server) *sender {
	return &sender{s: s, chats: map[int64]*chatQueue{},
		later: chatHeap{less: func(a, b *chatQueue) bool {
			return a.at.Before(b.at) || a.at.Equal(b.at) && a.items[0].ID < b.items[0].ID
		}},
		ready:   chatHeap{less: olderHead},
		free:    chatHeap{less: olderHead},
		readyAt: map[int64]time.Time{}, groups: map[int64][]time.Time{},
		results: make(chan result, s.cfg.Workers), marks: newMarks(s), feed: s.db.OutboxFeed()}
}

func olderHead(a, b *chatQueue) bool { return a.items[0].ID < b.items[0].ID }

func (q *sender) run(ctx context.Context) {
	calls := ctx
	if q.calls != nil {
		calls = q.calls
	}
	go q.marks.run()
	inflight := 0
	defer func() {
		// Record the outcome of the calls still running: one Telegram has
		// already answered must not be sent again after a restart.
		for ; inflight > 0; inflight-- {
			q.done(<-q.results)
		}
		q.marks.stop()
	}()
	for {
		if err := q.load(); err != nil {
			q.s.log.Error("outbox: load", "err", err)
		}
		q.s.health.outboxWaiting(q.stalledSince())
		now := q.s.cfg.Clock.Now()
		for q.later.Len() > 0 && !q.later.peek().at.After(now) {
			q.due(heap.Pop(&q.later).(*chatQueue))
		}
		wait := time.Minute // at most: then look at the store again
		if q.later.Len() > 0 {
			wait = min(wait, q.later.peek().at.Sub(now))
		}
		for inflight < q.s.cfg.Workers {
			// The oldest head that may go: one that does not count, or
			// one that does while the global window has room.
			cq, h := q.free.peek(), &q.free
			if r := q.ready.peek(); r != nil {
				if d := q.globalDelay(now); d > 0 {
					wait = min(wait, d)
				} else if cq == nil || olderHead(r, cq) {
					cq, h = r, &q.ready
				}
			}
			if cq == nil {
				break
			}
			heap.Pop(h)
			it, c := cq.items[0], cq.head
			q.account(c)
			inflight++
			go func() {
				start := q.s.cfg.Clock.Now()
				err := q.s.do(calls, c)
				q.results <- result{item: it, c: c, err: err, took: clock.Since(q.s.cfg.Clock, start)}
			}()
		}
		// The timer wakes the loop for the next send a window or a retry
		// allows, and once a minute when idle (items stored without a
		// kick are loaded then). With calls in flight and nothing else to
		// wait for, their results wake the loop: no timer, so that a fake
		// clock in tests sees the sender busy rather than idle.
		if q.s.cfg.Shared && inflight == 0 {
			// The other replicas store their replies without a kick
			// here: idle, look as often as the inbox scan does, or
			// their replies wait up to the minute.
			wait = min(wait, q.s.cfg.Scan)
		}
		var timer clock.Timer
		var fired <-chan time.Time
		if wait < time.Minute || inflight == 0 {
			timer = q.s.cfg.Clock.NewTimer(wait)
			fired = timer.C()
		}
		var r result
		got := false
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-q.s.wake:
		case r = <-q.results:
			got = true
		case <-fired:
		}
		if timer != nil {
			timer.Stop() // before the work below: the sender is not waiting
		}
		if got {
			inflight--
			q.done(r)
			for more := true; more; { // take every result that is ready
				select {
				case r := <-q.results:
					inflight--
					q.done(r)
				default:
					more = false
				}
			}
		}
	}
}

// load appends outbox items not seen yet to their chat queues.
func (q *sender) load() error {
	for {
		items, err := q.feed.Next(1000)
		if err != nil {
			return err
		}
		for _, it := range items {
			if cq := q.chats[it.ChatID]; cq != nil {
				cq.items = append(cq.items, it)
				continue
			}
			cq := &chatQueue{id: it.ChatID, items: []bansosbot.OutboxItem{it}}
			q.chats[it.ChatID] = cq
			q.progressed(cq)
			q.idle(cq)
		}
		if len(items) < 1000 {
			return nil
		}
	}
}

// idle puts a chat without a call in flight (a new one, or one whose call
// is done) where it waits: its head decoded (an undecodable one is
// parked), in later until its own time. A chat whose queue ran out is
// forgotten.
func (q *sender) idle(cq *chatQueue) {
	for len(cq.items) > 0 {
		it := cq.items[0]
		cq.head = call{}
		if err := json.Unmarshal(it.Payload, &cq.head); err != nil {
			q.s.log.Error("outbox: undecodable item parked", "outbox_id", it.ID, "err", err)
			q.park(cq, "undecodable")
			continue
		}
		cq.at = q.chatReady(cq.id, cq.head, it)
		heap.Push(&q.later, cq)
		return
	}
	q.forget(cq)
}

// due moves a chat whose own time has come to the heap it is taken from.
func (q *sender) due(cq *chatQueue) {
	if counts(cq.head) {
		heap.Push(&q.ready, cq)
	} else {
		heap.Push(&q.free, cq)
	}
}

func (q *sender) forget(cq *chatQueue) {
	if cq.elem != nil {
		q.progress.Remove(cq.elem)
		cq.elem = nil
	}
	delete(q.chats, cq.id)
}

// progressed notes that a chat made progress now.
func (q *sender) progressed(cq *chatQueue) {
	cq.since = q.s.cfg.Clock.Now()
	if cq.elem == nil {
		cq.elem = q.progress.PushBack(cq)
	} else {
		q.progress.MoveToBack(cq.elem)
	}
}

// chatHeap is a heap of chats (container/heap) in the order of less.
type chatHeap struct {
	cs   []*chatQueue
	less func(a, b *chatQueue) bool
}

func (h *chatHeap) Len() int           { return len(h.cs) }
func (h *chatHeap) Less(i, j int) bool { return h.less(h.cs[i], h.cs[j]) }
func (h *chatHeap) Swap(i, j int)      { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *chatHeap) Push(x any)         { h.cs = append(h.cs, x.(*chatQueue)) }
func (h *chatHeap) Pop() any {
	n := len(h.cs) - 1
	c := h.cs[n]
	h.cs[n] = nil
	h.cs = h.cs[:n]
	return c
}

func (h *chatHeap) peek() *chatQueue {
	if len(h.cs) == 0 {
		return nil
	}
	return h.cs[0]
}

// counts reports whether the call is a message under Telegram's send
// limits (answers to button presses and deletions are not).
func counts(c call) bool {
	return c.Method != mAnswerCallback && c.Method != mDeleteMessage
}

// chatReady is when the call may go as far as its chat is concerned: its
// own retry time, the chat's gap, the group window. The global window
// comes on top (globalDelay).
//
// Telegram counts requests when they arrive, which we cannot see, but
// arrival lies between our start and the answer. So windows are kept on
// answer times, and calls in flight count as if answered now: then no
// window on Telegram's side can hold more than the limit, whatever the
// network delays.
func (q *sender) chatReady(chat int64, c call, it bansosbot.OutboxItem) time.Time {
	at := it.NotBefore
	if !counts(c) {
		return at
	}
	lim := q.s.cfg.Limits
	if r := q.readyAt[chat]; r.After(at) {
		at = r
	}
	if chat < 0 { // groups and channels (one call in flight at most: this one is not)
		window := lim.GroupWindow + lim.Margin
		sends := prune(q.groups[chat], q.s.cfg.Clock.Now().Add(-window))
		q.groups[chat] = sends
		if len(sends) >= lim.GroupPerMinute {
			if r := sends[len(sends)-lim.GroupPerMinute].Add(window); r.After(at) {
				at = r
			}
		}
	}
	return at
}

// globalDelay is how long a call that counts must wait for the global
// window (the same for every chat).
func (q *sender) globalDelay(now time.Time) time.Duration {
	lim := q.s.cfg.Limits
	window := time.Second + lim.Margin
	q.recent = prune(q.recent, now.Add(-window))
	free := lim.Global - q.counting // slots left for answered calls in the window
	switch {
	case free <= 0:
		return time.Minute // wait for an answer; it wakes the loop
	case len(q.recent) >= free:
		return q.recent[len(q.recent)-free].Add(window).Sub(now)
	}
	return 0
}

func prune(ts []time.Time, before time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(before) {
		i++
	}
	return ts[i:]
}

// account notes a call that starts and counts against the limits.
func (q *sender) account(c call) {
	if counts(c) {
		q.counting++
	}
}

// answered moves a counting call from in flight to the windows, at the
// time of its answer.
func (q *sender) answered(chat int64, c call, now time.Time, accepted bool) {
	if !counts(c) {
		return
	}
	q.counting--
	if !accepted { // a 429: Telegram did not take it
		return
	}
	q.recent = append(q.recent, now)
	if chat < 0 {
		q.groups[chat] = append(q.groups[chat], now)
	} else {
		q.readyAt[chat] = now.Add(q.s.cfg.Limits.PerChat + q.s.cfg.Limits.Margin)
	}
}

// done applies a call's outcome, and puts the chat back to wait for its
// next call.
func (q *sender) done(r result) {
	chat := r.item.ChatID
	cq := q.chats[chat]
	it := r.item
	var tooMany *tg.TooManyRequestsError
	q.answered(chat, r.c, q.s.cfg.Clock.Now(), !errors.As(r.err, &tooMany))
	switch {
	case r.err == nil || delivered(r.err):
		q.s.log.Debug("outbox sent", "outbox_id", it.ID, "method", r.c.Method, "chat_kind", chatKind(chat),
			"attempt", it.Attempts+1, "took", r.took)
		q.s.cfg.Metrics.sent("ok")
		q.s.health.apiOK()
		q.pop(cq)
		q.marks.add(it.ID)
	case errors.As(r.err, &tooMany):
		q.s.cfg.Metrics.sent("429")
		q.s.health.apiOK()
		wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
		q.readyAt[chat] = q.s.cfg.Clock.Now().Add(wait)
		q.s.log.Warn("outbox: rate limited by Telegram", "chat_kind", chatKind(chat), "retry_after", wait)
	case errors.Is(r.err, tg.ErrorForbidden):
		q.s.cfg.Metrics.sent("403")
		q.s.health.apiOK()
		q.unreachable(cq)
		return
	case r.c.Method == mEditMarkup && (errors.Is(r.err, tg.ErrorBadRequest) || errors.Is(r.err, tg.ErrorNotFound)):
		// Removing the buttons of a message that is gone (or no longer
		// editable): nothing is lost, and nothing to keep as a dead letter.
		q.s.cfg.Metrics.sent("400")
		q.s.health.apiOK()
		q.s.log.Debug("outbox: buttons not removed", "outbox_id", it.ID, "err", r.err)
		q.pop(cq)
		q.marks.add(it.ID)
	case errors.Is(r.err, tg.ErrorBadRequest) || errors.Is(r.err, tg.ErrorNotFound):
		// The request itself is wrong (e.g. the message to edit is gone):
		// retrying cannot help.
		q.s.cfg.Metrics.sent("400")
		q.s.health.apiOK()
		q.s.log.Warn("outbox: request refused; parked", "outbox_id", it.ID, "err", r.err)
		q.park(cq, "bad request: "+r.err.Error())
	default: // network errors, timeouts, 5xx: transient
		q.s.cfg.Metrics.sent("error")
		q.s.health.apiFailed()
		it.Attempts++
		it.LastError = truncate(r.err.Error(), 200)
		// Give up only after enough tries over enough time: an outage of
		// Telegram (or of our network) must not turn into lost messages.
		if it.Attempts >= q.s.cfg.MaxAttempts && clock.Since(q.s.cfg.Clock, it.CreatedAt) >= q.s.cfg.MaxAge {
			q.s.log.Error("outbox: giving up after retries; parked", "outbox_id", it.ID, "attempts", it.Attempts, "err", r.err)
			q.park(cq, "retries exhausted: "+it.LastError)
			break
		}
		it.NotBefore = q.s.cfg.Clock.Now().Add(backoff(it.Attempts, q.s.cfg.MaxBackoff))
		cq.items[0] = it
		if err := q.s.db.Reschedule(it); err != nil {
			q.s.log.Error("outbox: reschedule", "outbox_id", it.ID, "err", err)
		}
	}
	q.idle(cq)
}

// delivered reports errors that mean the call had its effect already.
func delivered(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "message is not modified") || strings.Contains(msg, "query is too old")
}

// backoff is exponential with jitter: 1s, 2s, 4s ... up to limit.
func backoff(attempt int, limit time.Duration) time.Duration {
	d := time.Second << min(attempt-1, 16)
	d = min(d, limit)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// pop takes a chat's head off its queue (sent or parked): progress.
func (q *sender) pop(cq *chatQueue) {
	cq.items[0] = bansosbot.OutboxItem{}
	cq.items = cq.items[1:]
	q.progressed(cq)
}

// stalledSince is the earliest progress time of the chats with queued
// items (zero when none waits): a group's backlog, draining at its send
// window, keeps making progress; a stalled sender, or a chat whose every
// call fails, does not.
func (q *sender) stalledSince() time.Time {
	if e := q.progress.Front(); e != nil {
		return e.Value.(*chatQueue).since
	}
	if q.marks.pending() {
		// Sent, their marks not committed yet: what the outbox still
		// holds went out just now (not something never taken up).
		return q.s.cfg.Clock.Now()
	}
	return time.Time{}
}

// park moves a chat's head to the dead letters.
func (q *sender) park(cq *chatQueue, reason string) {
	it := cq.items[0]
	q.pop(cq)
	if err := q.s.db.ParkOutbox(reason, it); err != nil {
		q.s.log.Error("outbox: park", "outbox_id", it.ID, "err", err)
	}
	q.s.cfg.Metrics.deadLetter("outbox")
}

// unreachable: the user blocked the bot. Everything queued for them is
// parked and their profile marked, until they write again.
func (q *sender) unreachable(cq *chatQueue) {
	chat := cq.id
	err := q.s.db.Update(func(tx Tx) error {
		p, err := tx.Profile(chat)
		if err != nil || p == nil {
			return err
		}
		p.Unreachable = true
		return tx.PutProfile(p)
	})
	if err != nil {
		q.s.log.Error("outbox: mark unreachable", "err", err)
	}
	items := cq.items
	q.forget(cq)
	if err := q.s.db.ParkOutbox("chat unreachable (403)", items...); err != nil {
		q.s.log.Error("outbox: park unreachable chat", "err", err)
	}
	for range items {
		q.s.cfg.Metrics.deadLetter("outbox")
	}
	q.s.log.Info("chat unreachable (bot blocked); its queued messages were parked", "chat_kind", chatKind(chat), "parked", len(items))
}

// marks removes delivered items from the outbox off the send loop: the
// loop hands their ids over and goes on sending while a goroutine of its
// own commits them, as many as came during the previous commit in one
// transaction (DB.Delivered, group-committed with the dispatcher's
// transactions). Delivery stays at least once, as before: a crash after a
// call and before its mark is committed sends the call again at the next
// start; the window is still one commit, now off the send path. At a stop
// (or a Kill) the sender records the calls in flight and then waits for
// the last marks to be committed.
type marks struct {
	s          *Server
	mu         sync.Mutex
	ids        []uint64
	committing bool          // ids taken by a commit that has not returned
	kick       chan struct{} // 1-buffered: ids were added
	quit       chan struct{} // closed by stop
	done       chan struct{} // closed once the last ids are committed
}

func newMarks(s *Server) *marks {
	return &marks{s: s, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

func (m *marks) add(id uint64) {
	m.mu.Lock()
	m.ids = append(m.ids, id)
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *marks) run() {
	defer close(m.done)
	for {
		select {
		case <-m.kick:
			m.commit()
		case <-m.quit:
			m.commit()
			return
		}
	}
}

func (m *marks) commit() {
	m.mu.Lock()
	ids := m.ids
	m.ids = nil
	m.committing = len(ids) > 0
	m.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	err := m.s.db.Delivered(ids...)
	if err != nil {
		m.s.log.Error("outbox: mark delivered", "count", len(ids), "err", err)
	}
	m.mu.Lock()
	if bansosbot.IsWriteError(err) {
		// Kept, and committed with the next delivery's marks once the
		// store writes again: left in the outbox, they would be sent
		// again after a restart.
		m.ids = append(ids, m.ids...)
	}
	m.committing = false
	m.mu.Unlock()
}

// pending reports whether marks wait for their commit or are in one.
func (m *marks) pending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids) > 0 || m.committing
}

// stop commits what is left and ends run.
func (m *marks) stop() {
	close(m.quit)
	<-m.done
}

func chatKind(chat int64) string {
	if chat < 0 {
		return "group"
	}
	return "private"
}

// do makes one Telegram call: as JSON (apiCall), except those with a file.
func (s *Server) do(ctx context.Context, c call) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	switch c.Method {
	case mSendMessage:
		var m struct {
			ID int `json:"message_id"`
		}
		err = s.apiCall(ctx, "sendMessage", &messageParams{ChatID: c.ChatID, Text: c.Text, ParseMode: models.ParseModeHTML,
			ReplyMarkup: markup(c), LinkPreview: &linkPreview{IsDisabled: true}}, &m)
		s.sentPrompt(c, m.ID, err) // prompt.go
	case mEditText:
		err = s.apiCall(ctx, "editMessageText", &messageParams{ChatID: c.ChatID, MessageID: c.MessageID, Text: c.Text,
			ParseMode: models.ParseModeHTML, ReplyMarkup: markup(c)}, nil)
	case mEditMarkup:
		// Without buttons the markup is left out: Telegram removes them.
		p := &messageParams{ChatID: c.ChatID, MessageID: c.MessageID}
		if len(c.Buttons) > 0 {
			p.ReplyMarkup = markup(c)
		}
		err = s.apiCall(ctx, "editMessageReplyMarkup", p, nil)
	case mAnswerCallback:
		err = s.apiCall(ctx, "answerCallbackQuery", &tg.AnswerCallbackQueryParams{CallbackQueryID: c.CallbackID, Text: c.Text, ShowAlert: c.Alert}, nil)
	case mDeleteMessage:
		err = s.apiCall(ctx, "deleteMessage", &tg.DeleteMessageParams{ChatID: c.ChatID, MessageID: c.MessageID}, nil)
	case mSendPhoto:
		// Files (an upload, a file id) through the library: rare, and
		// its multipart form takes both.
		p := &tg.SendPhotoParams{ChatID: c.ChatID, Caption: c.Text, ParseMode: models.ParseModeHTML, ReplyMarkup: markup(c)}
		if len(c.PNG) > 0 {
			p.Photo = &models.InputFileUpload{Filename: "chart.png", Data: strings.NewReader(string(c.PNG))}
		} else {
			p.Photo = &models.InputFileString{Data: c.FileID}
		}
		_, err = s.api.SendPhoto(ctx, p)
	case mSendVoice:
		_, err = s.api.SendVoice(ctx, &tg.SendVoiceParams{ChatID: c.ChatID, Voice: &models.InputFileString{Data: c.FileID}, Caption: c.Text, ParseMode: models.ParseModeHTML})
	case mSendLocation:
		err = s.apiCall(ctx, "sendLocation", &tg.SendLocationParams{ChatID: c.ChatID, Latitude: c.Location.Lat, Longitude: c.Location.Lon}, nil)
	default:
		return fmt.Errorf("%w: unknown outbox method %q", tg.ErrorBadRequest, c.Method)
	}
	return redactToken(err, s.cfg.Token)
}

// markup builds the reply markup of a call (nil when it has none).
func markup(c call) models.ReplyMarkup {
	switch {
	case len(c.Buttons) > 0:
		rows := make([][]inlineButton, 0, len(c.Buttons))
		for _, row := range c.Buttons {
			r := make([]inlineButton, 0, len(row))
			for _, b := range row {
				r = append(r, inlineButton{Text: b.Text, CallbackData: b.Data})
			}
			rows = append(rows, r)
		}
		return &inlineMarkup{InlineKeyboard: rows}
	case c.Keyboard != nil && c.Keyboard.Remove:
		return &models.ReplyKeyboardRemove{RemoveKeyboard: true}
	case c.Keyboard != nil:
		rows := make([][]models.KeyboardButton, 0, len(c.Keyboard.Rows))
		for _, row := range c.Keyboard.Rows {
			r := make([]models.KeyboardButton, 0, len(row))
			for _, b := range row {
				r = append(r, models.KeyboardButton{Text: b.Text, RequestContact: b.Contact, RequestLocation: b.Location})
			}
			rows = append(rows, r)
		}
		return &models.ReplyKeyboardMarkup{Keyboard: rows, ResizeKeyboard: true, OneTimeKeyboard: true}
	}
	return nil
}
