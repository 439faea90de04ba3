package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot/clock"
	"github.com/bansosbot/bansosbot/store"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// sender delivers the outbox. It loads new items in id order into one FIFO
// queue per chat, keeps at most one call per chat in flight (so a chat's
// messages arrive in order), and starts a call only when the chat's and
// the global send windows allow it. State here is only a cache of the
// outbox: after a restart it is rebuilt from the store.
type sender struct {
	s       *Server
	queues  map[int64][]store.OutboxItem
	loaded  uint64                // highest outbox id loaded
	busy    map[int64]bool        // chats with a call in flight
	readyAt map[int64]time.Time   // earliest next send per chat
	groups  map[int64][]time.Time // recent sends per group chat
	recent  []time.Time           // recent sends, all chats (global window)

	// since is, per chat with queued items, when it last made progress:
	// its first item was loaded or its previous one went out. A chat held
	// back by its send window makes progress; a stuck one does not.
	since map[int64]time.Time
	// counting is the number of calls in flight that count against the
	// send limits.
	counting int
	results  chan result
	// delivered are ids sent but not yet removed from the store; a crash
	// before the removal resends them (delivery is at least once).
	delivered []uint64
	// calls is the context of the Telegram calls (default run's): a
	// sender that loses its lease stops starting calls, while those
	// under way finish (lease.go).
	calls context.Context
}

type result struct {
	item store.OutboxItem
	c    call
	err  error
	took time.Duration // the Telegram call
}

func newSender(s *Server) *sender {
	return &sender{s: s, queues: map[int64][]store.OutboxItem{}, busy: map[int64]bool{},
		readyAt: map[int64]time.Time{}, groups: map[int64][]time.Time{}, since: map[int64]time.Time{}, results: make(chan result, s.cfg.Workers)}
}

func (q *sender) run(ctx context.Context) {
	calls := ctx
	if q.calls != nil {
		calls = q.calls
	}
	inflight := 0
	defer func() {
		// Record the outcome of the calls still running: one Telegram has
		// already answered must not be sent again after a restart.
		for ; inflight > 0; inflight-- {
			q.done(<-q.results)
		}
		q.flushDelivered()
	}()
	for {
		if err := q.load(); err != nil {
			q.s.log.Error("outbox: load", "err", err)
		}
		q.s.health.outboxWaiting(q.stalledSince())
		now := q.s.cfg.Clock.Now()
		wait := time.Minute
		for _, chat := range q.order() {
			if inflight >= q.s.cfg.Workers {
				break
			}
			it := q.queues[chat][0]
			var c call
			if err := json.Unmarshal(it.Payload, &c); err != nil {
				q.s.log.Error("outbox: undecodable item parked", "outbox_id", it.ID, "err", err)
				q.park("undecodable", it)
				continue
			}
			if d := q.delay(chat, c, it, now); d > 0 {
				wait = min(wait, d)
				continue
			}
			q.account(c)
			q.busy[chat] = true
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
			q.flushDelivered()
		}
	}
}

// flushDelivered removes the delivered items from the outbox in one
// transaction: one commit for many sends.
func (q *sender) flushDelivered() {
	if len(q.delivered) == 0 {
		return
	}
	if err := q.s.db.Delivered(q.delivered...); err != nil {
		q.s.log.Error("outbox: mark delivered", "count", len(q.delivered), "err", err)
	}
	q.delivered = q.delivered[:0]
}

// load appends outbox items not seen yet to their chat queues.
func (q *sender) load() error {
	for {
		items, err := q.s.db.Outbox(q.loaded, 1000)
		if err != nil {
			return err
		}
		for _, it := range items {
			if len(q.queues[it.ChatID]) == 0 {
				q.since[it.ChatID] = q.s.cfg.Clock.Now()
			}
			q.queues[it.ChatID] = append(q.queues[it.ChatID], it)
			q.loaded = it.ID
		}
		if len(items) < 1000 {
			return nil
		}
	}
}

// order lists the chats that have work and no call in flight, oldest
// waiting item first, so that no chat starves.
func (q *sender) order() []int64 {
	chats := make([]int64, 0, len(q.queues))
	for chat, items := range q.queues {
		if len(items) > 0 && !q.busy[chat] {
			chats = append(chats, chat)
		}
	}
	sort.Slice(chats, func(i, j int) bool { return q.queues[chats[i]][0].ID < q.queues[chats[j]][0].ID })
	return chats
}

// counts reports whether the call is a message under Telegram's send
// limits (answers to button presses and deletions are not).
func counts(c call) bool {
	return c.Method != mAnswerCallback && c.Method != mDeleteMessage
}

// delay is how long the call must wait: its own retry time, the chat's
// gap, the group window or the global one.
//
// Telegram counts requests when they arrive, which we cannot see, but
// arrival lies between our start and the answer. So windows are kept on
// answer times, and calls in flight count as if answered now: then no
// window on Telegram's side can hold more than the limit, whatever the
// network delays.
func (q *sender) delay(chat int64, c call, it store.OutboxItem, now time.Time) time.Duration {
	d := it.NotBefore.Sub(now)
	if !counts(c) {
		return d
	}
	lim := q.s.cfg.Limits
	d = max(d, q.readyAt[chat].Sub(now))
	if chat < 0 { // groups and channels (one call in flight at most: this one is not)
		window := lim.GroupWindow + lim.Margin
		sends := prune(q.groups[chat], now.Add(-window))
		q.groups[chat] = sends
		if len(sends) >= lim.GroupPerMinute {
			d = max(d, sends[len(sends)-lim.GroupPerMinute].Add(window).Sub(now))
		}
	}
	window := time.Second + lim.Margin
	q.recent = prune(q.recent, now.Add(-window))
	free := lim.Global - q.counting // slots left for answered calls in the window
	switch {
	case free <= 0:
		d = max(d, time.Minute) // wait for an answer; it wakes the loop
	case len(q.recent) >= free:
		d = max(d, q.recent[len(q.recent)-free].Add(window).Sub(now))
	}
	return d
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

// done applies a call's outcome.
func (q *sender) done(r result) {
	chat := r.item.ChatID
	q.busy[chat] = false
	it := r.item
	var tooMany *tg.TooManyRequestsError
	q.answered(chat, r.c, q.s.cfg.Clock.Now(), !errors.As(r.err, &tooMany))
	switch {
	case r.err == nil || delivered(r.err):
		q.s.log.Debug("outbox sent", "outbox_id", it.ID, "method", r.c.Method, "chat_kind", chatKind(chat),
			"attempt", it.Attempts+1, "took", r.took)
		q.s.cfg.Metrics.sent("ok")
		q.s.health.apiOK()
		q.pop(chat)
		q.delivered = append(q.delivered, it.ID)
	case errors.As(r.err, &tooMany):
		q.s.cfg.Metrics.sent("429")
		q.s.health.apiOK()
		wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
		q.readyAt[chat] = q.s.cfg.Clock.Now().Add(wait)
		q.s.log.Warn("outbox: rate limited by Telegram", "chat_kind", chatKind(chat), "retry_after", wait)
	case errors.Is(r.err, tg.ErrorForbidden):
		q.s.cfg.Metrics.sent("403")
		q.s.health.apiOK()
		q.unreachable(chat)
	case r.c.Method == mEditMarkup && (errors.Is(r.err, tg.ErrorBadRequest) || errors.Is(r.err, tg.ErrorNotFound)):
		// Removing the buttons of a message that is gone (or no longer
		// editable): nothing is lost, and nothing to keep as a dead letter.
		q.s.cfg.Metrics.sent("400")
		q.s.health.apiOK()
		q.s.log.Debug("outbox: buttons not removed", "outbox_id", it.ID, "err", r.err)
		q.pop(chat)
		q.delivered = append(q.delivered, it.ID)
	case errors.Is(r.err, tg.ErrorBadRequest) || errors.Is(r.err, tg.ErrorNotFound):
		// The request itself is wrong (e.g. the message to edit is gone):
		// retrying cannot help.
		q.s.cfg.Metrics.sent("400")
		q.s.health.apiOK()
		q.s.log.Warn("outbox: request refused; parked", "outbox_id", it.ID, "err", r.err)
		q.park("bad request: "+r.err.Error(), it)
	default: // network errors, timeouts, 5xx: transient
		q.s.cfg.Metrics.sent("error")
		q.s.health.apiFailed()
		it.Attempts++
		it.LastError = truncate(r.err.Error(), 200)
		// Give up only after enough tries over enough time: an outage of
		// Telegram (or of our network) must not turn into lost messages.
		if it.Attempts >= q.s.cfg.MaxAttempts && clock.Since(q.s.cfg.Clock, it.CreatedAt) >= q.s.cfg.MaxAge {
			q.s.log.Error("outbox: giving up after retries; parked", "outbox_id", it.ID, "attempts", it.Attempts, "err", r.err)
			q.park("retries exhausted: "+it.LastError, it)
			return
		}
		it.NotBefore = q.s.cfg.Clock.Now().Add(backoff(it.Attempts, q.s.cfg.MaxBackoff))
		q.queues[chat][0] = it
		if err := q.s.db.Reschedule(it); err != nil {
			q.s.log.Error("outbox: reschedule", "outbox_id", it.ID, "err", err)
		}
	}
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

func (q *sender) pop(chat int64) {
	q.queues[chat] = q.queues[chat][1:]
	q.since[chat] = q.s.cfg.Clock.Now()
	if len(q.queues[chat]) == 0 {
		delete(q.queues, chat)
		delete(q.since, chat)
	}
}

// stalledSince is the earliest progress time of the chats with queued
// items (zero when none waits): a group's backlog, draining at its send
// window, keeps making progress; a stalled sender, or a chat whose every
// call fails, does not.
func (q *sender) stalledSince() time.Time {
	var oldest time.Time
	for _, t := range q.since {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return oldest
}

func (q *sender) park(reason string, it store.OutboxItem) {
	q.pop(it.ChatID)
	if err := q.s.db.ParkOutbox(reason, it); err != nil {
		q.s.log.Error("outbox: park", "outbox_id", it.ID, "err", err)
	}
	q.s.cfg.Metrics.deadLetter("outbox")
}

// unreachable: the user blocked the bot. Everything queued for them is
// parked and their profile marked, until they write again.
func (q *sender) unreachable(chat int64) {
	err := q.s.db.Update(func(tx *store.Tx) error {
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
	items := q.queues[chat]
	delete(q.queues, chat)
	delete(q.since, chat)
	if err := q.s.db.ParkOutbox("chat unreachable (403)", items...); err != nil {
		q.s.log.Error("outbox: park unreachable chat", "err", err)
	}
	for range items {
		q.s.cfg.Metrics.deadLetter("outbox")
	}
	q.s.log.Info("chat unreachable (bot blocked); its queued messages were parked", "chat_kind", chatKind(chat), "parked", len(items))
}

func chatKind(chat int64) string {
	if chat < 0 {
		return "group"
	}
	return "private"
}

// do makes one Telegram call.
func (s *Server) do(ctx context.Context, c call) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	switch c.Method {
	case mSendMessage:
		var m *models.Message
		m, err = s.api.SendMessage(ctx, &tg.SendMessageParams{ChatID: c.ChatID, Text: c.Text, ParseMode: models.ParseModeHTML,
			ReplyMarkup: markup(c), LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()}})
		s.sentPrompt(c, m, err) // prompt.go
	case mEditText:
		_, err = s.api.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: c.ChatID, MessageID: c.MessageID, Text: c.Text,
			ParseMode: models.ParseModeHTML, ReplyMarkup: markup(c)})
	case mEditMarkup:
		// Without buttons the markup is left out: Telegram removes them.
		p := &tg.EditMessageReplyMarkupParams{ChatID: c.ChatID, MessageID: c.MessageID}
		if len(c.Buttons) > 0 {
			p.ReplyMarkup = markup(c)
		}
		_, err = s.api.EditMessageReplyMarkup(ctx, p)
	case mAnswerCallback:
		_, err = s.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: c.CallbackID, Text: c.Text, ShowAlert: c.Alert})
	case mDeleteMessage:
		_, err = s.api.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: c.ChatID, MessageID: c.MessageID})
	case mSendPhoto:
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
		_, err = s.api.SendLocation(ctx, &tg.SendLocationParams{ChatID: c.ChatID, Latitude: c.Location.Lat, Longitude: c.Location.Lon})
	default:
		return fmt.Errorf("%w: unknown outbox method %q", tg.ErrorBadRequest, c.Method)
	}
	return redactToken(err, s.cfg.Token)
}

// markup builds the reply markup of a call (nil when it has none).
func markup(c call) models.ReplyMarkup {
	switch {
	case len(c.Buttons) > 0:
		rows := make([][]models.InlineKeyboardButton, 0, len(c.Buttons))
		for _, row := range c.Buttons {
			r := make([]models.InlineKeyboardButton, 0, len(row))
			for _, b := range row {
				r = append(r, models.InlineKeyboardButton{Text: b.Text, CallbackData: b.Data})
			}
			rows = append(rows, r)
		}
		return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
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
