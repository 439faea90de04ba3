package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
)

// Report counters (see bansosbot.Tally). PutTicket keeps them in step in
// the ticket's own transaction when the DB has a Tallier (flows computes
// a ticket's contribution, which needs the business calendar and the
// history): it subtracts the contribution stored for the ticket, adds the
// new one and stores that. So the counters always equal the sum of the
// stored contributions, whatever happened to a ticket (reopened,
// transferred, moved to another region, purged).
//
// The buckets are created when the counters are first built (at start-up
// by RebuildTallies, or by the first ticket of a new store):
var (
	bucketTallyDay     = []byte("tally_day")     // day(4) kab -> entries (group, Tally)
	bucketTallyOverdue = []byte("tally_overdue") // day(4) kab -> entries (group, delta)
	bucketTallyOpen    = []byte("tally_open")    // overdue-from(8) id(8) -> group
	bucketTallyStatus  = []byte("tally_status")  // region(kec) 0 category 0 restricted status -> n(8)
	bucketTallyProv    = []byte("tally_prov")    // status 0 province -> n(8)
	bucketTallyTicket  = []byte("tally_ticket")  // ticket id -> its contribution
	tallyBuckets       = [][]byte{bucketTallyDay, bucketTallyOverdue, bucketTallyOpen, bucketTallyStatus, bucketTallyProv, bucketTallyTicket, bucketTallyRoll}
)

// keyTallyState in the meta bucket says whether the counters can be
// trusted: "ok" (kept in step), "building" (RebuildTallies is running;
// writes keep them in step), "stale" (a ticket was written by a program
// without a Tallier: rebuild). Absent: never built.
var keyTallyState = []byte("tally_state")

// Tally states.
const (
	TallyNone     = ""
	TallyOK       = "ok"
	TallyBuilding = "building"
	TallyStale    = "stale"
)

// Tallier computes a ticket's contribution to the counters, inside the
// transaction that stores it (its history is there already).
type Tallier func(tx *Tx, t *bansosbot.Ticket) (*bansosbot.TicketTally, error)

// SetTallier makes PutTicket keep the counters; call it before the store
// is shared between goroutines.
func (db *DB) SetTallier(f Tallier) { db.tallier = f }

// TallyState is the counters' state (TallyOK when reports may read them);
// counters of an older layout (tallyFormat) are stale.
func (tx *Tx) TallyState() string {
	meta := tx.tx.Bucket(bucketMeta)
	s := string(meta.Get(keyTallyState))
	if (s == TallyOK || s == TallyBuilding) && string(meta.Get(keyTallyFormat)) != tallyFormat {
		return TallyStale
	}
	return s
}

// TalliesReady reports whether reports may read the counters.
func (tx *Tx) TalliesReady() bool { return tx.TallyState() == TallyOK }

func (tx *Tx) setTallyState(s string) error {
	if s == TallyOK || s == TallyBuilding {
		if err := tx.bucket(bucketMeta).Put(keyTallyFormat, []byte(tallyFormat)); err != nil {
			return err
		}
	}
	return tx.bucket(bucketMeta).Put(keyTallyState, []byte(s))
}

// tallyTicket keeps the counters in step with t, just stored.
func (tx *Tx) tallyTicket(t *bansosbot.Ticket) error {
	state := tx.TallyState()
	if tx.tallier == nil {
		if state == TallyOK || state == TallyBuilding {
			return tx.setTallyState(TallyStale)
		}
		return nil
	}
	switch state {
	case TallyStale:
		return nil // a rebuild is due anyway
	case TallyNone:
		// A new store: its first ticket starts the counters.
		c := tx.bucket(bucketTickets).Cursor()
		k, _ := c.First()
		if k == nil || binary.BigEndian.Uint64(k) != t.ID {
			return nil
		}
		if k, _ = c.Next(); k != nil {
			return nil // tickets from before the counters: RebuildTallies builds them
		}
		if err := tx.createTallyBuckets(); err != nil {
			return err
		}
		if err := tx.setTallyState(TallyOK); err != nil {
			return err
		}
	}
	return tx.retally(t)
}

func (tx *Tx) createTallyBuckets() error {
	for _, n := range tallyBuckets {
		if _, err := tx.tx.CreateBucketIfNotExists(n); err != nil {
			return fmt.Errorf("store: create bucket %s: %w", n, err)
		}
	}
	return nil
}

// retally replaces t's stored contribution by a fresh one.
func (tx *Tx) retally(t *bansosbot.Ticket) error { return tx.retallyAcc(t, nil) }

// retallyAcc is retally whose rollup changes go to roll (nil: applied
// now), for a rebuild to apply a chunk's at once.
func (tx *Tx) retallyAcc(t *bansosbot.Ticket, roll rollAcc) error {
	nt, err := tx.tallier(tx, t)
	if err != nil {
		return fmt.Errorf("store: counters of ticket %d: %w", t.ID, err)
	}
	kv := txKV{tx.tx}
	key := u64(t.ID)
	enc := encodeTicketTally(nil, nt)
	old := tx.bucket(bucketTallyTicket).Get(key)
	if bytes.Equal(old, enc) {
		return nil
	}
	var ot *bansosbot.TicketTally
	if old != nil {
		if ot, err = decodeTicketTally(old); err != nil {
			return err
		}
	}
	if err := applyChange(kv, t.ID, ot, nt, roll); err != nil {
		return err
	}
	return tx.bucket(bucketTallyTicket).Put(key, enc)
}

// kv is where counters are added: the buckets, or memory for a recount.
type kv interface {
	get(bucket, key []byte) []byte
	put(bucket, key, value []byte) error
	del(bucket, key []byte) error
}

type txKV struct{ tx backend.Tx }

func (b txKV) get(bucket, key []byte) []byte     { return b.tx.Bucket(bucket).Get(key) }
func (b txKV) put(bucket, key, val []byte) error { return b.tx.Bucket(bucket).Put(key, val) }
func (b txKV) del(bucket, key []byte) error      { return b.tx.Bucket(bucket).Delete(key) }

type memKV map[string]map[string][]byte

func (m memKV) get(bucket, key []byte) []byte { return m[string(bucket)][string(key)] }
func (m memKV) put(bucket, key, val []byte) error {
	b := m[string(bucket)]
	if b == nil {
		b = map[string][]byte{}
		m[string(bucket)] = b
	}
	b[string(key)] = bytes.Clone(val)
	return nil
}
func (m memKV) del(bucket, key []byte) error { delete(m[string(bucket)], string(key)); return nil }

// kabOf is the region part of a day key: the kabupaten/kota (or the
// region itself when it is above that level).
func kabOf(r bansosbot.RegionCode) bansosbot.RegionCode {
	if r.Level() >= 2 {
		return r.Regency()
	}
	return r
}

func dayKey(day int32, kab bansosbot.RegionCode) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(day)), kab...)
}

// applyChange replaces a ticket's contribution old (nil: none) by nt in
// the counters; the rollups' changes go to roll when it is not nil.
func applyChange(s kv, id uint64, old, nt *bansosbot.TicketTally, roll rollAcc) error {
	flush := roll == nil
	if flush {
		roll = rollAcc{}
	}
	counts := true
	if old != nil && old.Group == nt.Group {
		// Only what differs: the days, overdue changes, overdue instant
		// and status that both have alike would be subtracted and added
		// back, rewriting their records for nothing.
		old, nt = trimCommon(old, nt)
		counts = old.Status != nt.Status
	}
	if old != nil {
		if err := applyTally(s, id, old, -1, counts); err != nil {
			return err
		}
		roll.add(old, -1)
	}
	if err := applyTally(s, id, nt, 1, counts); err != nil {
		return err
	}
	roll.add(nt, 1)
	if !flush {
		return nil
	}
	return roll.flush(s)
}

// trimCommon returns copies of two contributions of one group without
// the days and overdue changes they have alike, and without the overdue
// instant when it is the same.
func trimCommon(old, nt *bansosbot.TicketTally) (*bansosbot.TicketTally, *bansosbot.TicketTally) {
	o, n := *old, *nt
	o.Days, n.Days = nil, nil
	for _, d := range old.Days {
		if j := slices.IndexFunc(nt.Days, func(e bansosbot.DayTally) bool { return e.Day == d.Day }); j < 0 ||
			!bytes.Equal(encodeTally(nil, &d.Tally), encodeTally(nil, &nt.Days[j].Tally)) {
			o.Days = append(o.Days, d)
		}
	}
	for _, d := range nt.Days {
		if j := slices.IndexFunc(old.Days, func(e bansosbot.DayTally) bool { return e.Day == d.Day }); j < 0 ||
			!bytes.Equal(encodeTally(nil, &d.Tally), encodeTally(nil, &old.Days[j].Tally)) {
			n.Days = append(n.Days, d)
		}
	}
	o.Overdue, n.Overdue = nil, nil
	rest := slices.Clone(nt.Overdue)
	for _, d := range old.Overdue {
		if j := slices.Index(rest, d); j >= 0 {
			rest = slices.Delete(rest, j, j+1)
		} else {
			o.Overdue = append(o.Overdue, d)
		}
	}
	n.Overdue = rest
	if o.OverdueFrom.Equal(n.OverdueFrom) {
		o.OverdueFrom, n.OverdueFrom = time.Time{}, time.Time{}
	}
	return &o, &n
}

// applyTally adds sign × tt to the counters but the rollups (the status
// counters only when counts).
func applyTally(s kv, id uint64, tt *bansosbot.TicketTally, sign int64, counts bool) error {
	g := tt.Group
	kab := kabOf(g.Region)
	for i := range tt.Days {
		d := &tt.Days[i]
		k := dayKey(d.Day, kab)
		entries, err := decodeDayEntries(s.get(bucketTallyDay, k))
		if err != nil {
			return err
		}
		j := slices.IndexFunc(entries, func(e dayEntry) bool { return e.group == g })
		if j < 0 {
			entries = append(entries, dayEntry{group: g})
			j = len(entries) - 1
		}
		entries[j].tally.Add(&d.Tally, sign)
		if entries[j].tally.IsZero() {
			entries = slices.Delete(entries, j, j+1)
		}
		if err := putOrDelete(s, bucketTallyDay, k, encodeDayEntries(entries)); err != nil {
			return err
		}
	}
	for _, d := range tt.Overdue {
		k := dayKey(d.Day, kab)
		entries, err := decodeDeltaEntries(s.get(bucketTallyOverdue, k))
		if err != nil {
			return err
		}
		j := slices.IndexFunc(entries, func(e deltaEntry) bool { return e.group == g })
		if j < 0 {
			entries = append(entries, deltaEntry{group: g})
			j = len(entries) - 1
		}
		entries[j].delta += sign * d.Delta
		if entries[j].delta == 0 {
			entries = slices.Delete(entries, j, j+1)
		}
		if err := putOrDelete(s, bucketTallyOverdue, k, encodeDeltaEntries(entries)); err != nil {
			return err
		}
	}
	if !tt.OverdueFrom.IsZero() {
		k := append(i64(tt.OverdueFrom.UnixNano()), u64(id)...)
		var err error
		if sign > 0 {
			err = s.put(bucketTallyOpen, k, encodeGroup(nil, g))
		} else {
			err = s.del(bucketTallyOpen, k)
		}
		if err != nil {
			return err
		}
	}
	if !counts {
		return nil
	}
	if err := addCount(s, bucketTallyStatus, statusTallyKey(g, tt.Status), sign); err != nil {
		return err
	}
	return addCount(s, bucketTallyProv, append(append([]byte(tt.Status), 0), g.Region.Province()...), sign)
}

func statusTallyKey(g bansosbot.TallyGroup, st bansosbot.Status) []byte {
	k := append(append([]byte(g.Region), 0), g.Category...)
	k = append(k, 0, boolByte(g.Restricted))
	return append(k, st...)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func addCount(s kv, bucket, key []byte, sign int64) error {
	var n int64
	if v := s.get(bucket, key); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += sign
	if n == 0 {
		return s.del(bucket, key)
	}
	return s.put(bucket, key, u64(uint64(n)))
}

func putOrDelete(s kv, bucket, key, val []byte) error {
	if len(val) == 0 {
		return s.del(bucket, key)
	}
	return s.put(bucket, key, val)
}

// Encoding: varints throughout.

type dayEntry struct {
	group bansosbot.TallyGroup
	tally bansosbot.Tally
}

type deltaEntry struct {
	group bansosbot.TallyGroup
	delta int64
}

var errTallyFormat = errors.New("store: malformed counter record")

type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errTallyFormat, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errTallyFormat, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if uint64(len(r.b)) < n {
		r.err, r.b = errTallyFormat, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func encodeGroup(b []byte, g bansosbot.TallyGroup) []byte {
	b = appendStr(b, string(g.Region))
	b = appendStr(b, g.Category)
	return append(b, boolByte(g.Restricted))
}

// groupCached is group, decoding each distinct encoding once per cache.
func (r *reader) groupCached(cache map[string]bansosbot.TallyGroup) bansosbot.TallyGroup {
	start := r.b
	for range 2 { // skip region and category
		n := r.uvarint()
		if r.err != nil || uint64(len(r.b)) < n+1 {
			r.err, r.b = errTallyFormat, nil
			return bansosbot.TallyGroup{}
		}
		r.b = r.b[n:]
	}
	r.b = r.b[1:] // restricted
	raw := start[:len(start)-len(r.b)]
	if c, ok := cache[string(raw)]; ok {
		return c
	}
	g := (&reader{b: raw}).group()
	cache[string(raw)] = g
	return g
}

func (r *reader) group() bansosbot.TallyGroup {
	g := bansosbot.TallyGroup{Region: bansosbot.RegionCode(r.str()), Category: r.str()}
	if len(r.b) == 0 {
		r.err = errTallyFormat
		return g
	}
	g.Restricted, r.b = r.b[0] == 1, r.b[1:]
	return g
}

func encodeTally(b []byte, t *bansosbot.Tally) []byte {
	for _, v := range []int64{t.Received, t.Responses, t.ResponsesOnTime, t.Resolved, t.ResolvedOnTime, t.Rated, t.RatingSum} {
		b = binary.AppendVarint(b, v)
	}
	for _, d := range []bansosbot.Digest{t.ResponseMinutes, t.ResolutionMinutes} {
		b = binary.AppendUvarint(b, uint64(len(d)))
		prev := uint32(0)
		for _, bin := range d {
			b = binary.AppendUvarint(b, uint64(bin.Minutes-prev))
			b = binary.AppendVarint(b, bin.N)
			prev = bin.Minutes
		}
	}
	return b
}

func (r *reader) tally() bansosbot.Tally {
	var t bansosbot.Tally
	for _, p := range []*int64{&t.Received, &t.Responses, &t.ResponsesOnTime, &t.Resolved, &t.ResolvedOnTime, &t.Rated, &t.RatingSum} {
		*p = r.varint()
	}
	for _, p := range []*bansosbot.Digest{&t.ResponseMinutes, &t.ResolutionMinutes} {
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			r.err = errTallyFormat
			return t
		}
		if n == 0 {
			continue
		}
		d := make(bansosbot.Digest, 0, n)
		prev := uint32(0)
		for range n {
			prev += uint32(r.uvarint())
			d = append(d, bansosbot.Bin{Minutes: prev, N: r.varint()})
		}
		*p = d
	}
	return t
}

func encodeDayEntries(es []dayEntry) []byte {
	var b []byte
	for i := range es {
		b = encodeGroup(b, es[i].group)
		b = encodeTally(b, &es[i].tally)
	}
	return b
}

func decodeDayEntries(v []byte) ([]dayEntry, error) {
	r := &reader{b: v}
	var out []dayEntry
	for len(r.b) > 0 && r.err == nil {
		out = append(out, dayEntry{group: r.group(), tally: r.tally()})
	}
	return out, r.err
}

func encodeDeltaEntries(es []deltaEntry) []byte {
	var b []byte
	for _, e := range es {
		b = encodeGroup(b, e.group)
		b = binary.AppendVarint(b, e.delta)
	}
	return b
}

func decodeDeltaEntries(v []byte) ([]deltaEntry, error) {
	r := &reader{b: v}
	var out []deltaEntry
	for len(r.b) > 0 && r.err == nil {
		out = append(out, deltaEntry{group: r.group(), delta: r.varint()})
	}
	return out, r.err
}

func encodeTicketTally(b []byte, tt *bansosbot.TicketTally) []byte {
	b = encodeGroup(b, tt.Group)
	b = appendStr(b, string(tt.Status))
	var from int64
	if !tt.OverdueFrom.IsZero() {
		from = tt.OverdueFrom.UnixNano()
	}
	b = binary.AppendVarint(b, from)
	b = binary.AppendUvarint(b, uint64(len(tt.Days)))
	for i := range tt.Days {
		b = binary.AppendVarint(b, int64(tt.Days[i].Day))
		b = encodeTally(b, &tt.Days[i].Tally)
	}
	b = binary.AppendUvarint(b, uint64(len(tt.Overdue)))
	for _, d := range tt.Overdue {
		b = binary.AppendVarint(b, int64(d.Day))
		b = binary.AppendVarint(b, d.Delta)
	}
	return b
}

func decodeTicketTally(v []byte) (*bansosbot.TicketTally, error) {
	r := &reader{b: v}
	tt := &bansosbot.TicketTally{Group: r.group(), Status: bansosbot.Status(r.str())}
	if from := r.varint(); from != 0 {
		tt.OverdueFrom = time.Unix(0, from)
	}
	n := r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		tt.Days = append(tt.Days, bansosbot.DayTally{Day: int32(r.varint()), Tally: r.tally()})
	}
	n = r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		tt.Overdue = append(tt.Overdue, bansosbot.DayDelta{Day: int32(r.varint()), Delta: r.varint()})
	}
	if r.err != nil {
		return nil, r.err
	}
	return tt, nil
}

// Reading the counters.

// underRegion reports whether a day key's kab part can hold groups under
// region.
func underRegion(region, kab bansosbot.RegionCode) bool {
	return region.Covers(kab) || kab.Covers(region)
}

// StatusTallies calls fn with the number of tickets of each group under
// region in each status (every group that has a ticket appears).
func (tx *Tx) StatusTallies(region bansosbot.RegionCode, fn func(g bansosbot.TallyGroup, st bansosbot.Status, n int64)) error {
	b := tx.tx.Bucket(bucketTallyStatus)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	prefix := []byte(region)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if rest := k[len(prefix):]; len(region) > 0 && rest[0] != 0 && rest[0] != '.' {
			continue
		}
		i := bytes.IndexByte(k, 0)
		j := bytes.IndexByte(k[i+1:], 0)
		if i < 0 || j < 0 || len(k) < i+1+j+2 || len(v) != 8 {
			return fmt.Errorf("store: status counter %q: %w", k, errTallyFormat)
		}
		j += i + 1
		g := bansosbot.TallyGroup{Region: bansosbot.RegionCode(k[:i]), Category: string(k[i+1 : j]), Restricted: k[j+1] == 1}
		fn(g, bansosbot.Status(k[j+2:]), int64(binary.BigEndian.Uint64(v)))
	}
	return nil
}

// TallyCounts are the tickets by status and province, from the counters;
// ok is false when the counters are not ready.
func (db *DB) TallyCounts() (out []TicketCount, ok bool, err error) {
	err = db.kv.View(func(btx backend.Tx) error {
		tx := &Tx{tx: btx}
		if !tx.TalliesReady() {
			return nil
		}
		ok = true
		return btx.Bucket(bucketTallyProv).ForEach(func(k, v []byte) error {
			i := bytes.IndexByte(k, 0)
			if i < 0 || len(v) != 8 {
				return fmt.Errorf("store: province counter %q: %w", k, errTallyFormat)
			}
			out = append(out, TicketCount{Status: bansosbot.Status(k[:i]), Province: bansosbot.RegionCode(k[i+1:]), N: int(binary.BigEndian.Uint64(v))})
			return nil
		})
	})
	return out, ok, err
}

// OverdueByProvince counts, from the counters, the open tickets overdue
// at now by province; every province with an open ticket has an entry.
// ok is false when the counters are not ready.
func (db *DB) OverdueByProvince(now time.Time) (out map[bansosbot.RegionCode]int, ok bool, err error) {
	err = db.View(func(tx *Tx) error {
		if !tx.TalliesReady() {
			return nil
		}
		ok, out = true, map[bansosbot.RegionCode]int{}
		if err := tx.tx.Bucket(bucketTallyProv).ForEach(func(k, v []byte) error {
			i := bytes.IndexByte(k, 0)
			if i >= 0 && bansosbot.Status(k[:i]).Open() {
				out[bansosbot.RegionCode(k[i+1:])] += 0
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.OverdueNow(now, "", func(g bansosbot.TallyGroup, n int64) {
			out[g.Region.Province()] += int(n)
		})
	})
	return out, ok, err
}

// Building and checking.

// TallyResult is what RebuildTallies or CheckTallies did.
type TallyResult struct {
	Tickets int // tickets counted
	// Stale are tickets whose stored contribution differs from a fresh
	// one (the calendar, the categories or the program changed since, or
	// a program without counters wrote them); Differences are counter
	// records that differ from the sum of fresh contributions.
	Stale, Differences int
	Examples           []string // up to 10 differing records, for the operator
}

// resetTallies empties the counters and marks them being built.
func (tx *Tx) resetTallies() error {
	for _, n := range tallyBuckets {
		if tx.tx.Bucket(n) != nil {
			if err := tx.tx.DeleteBucket(n); err != nil {
				return err
			}
		}
	}
	if err := tx.createTallyBuckets(); err != nil {
		return err
	}
	return tx.setTallyState(TallyBuilding)
}

// RebuildTalliesExclusive is RebuildTallies for a store that nobody else
// writes meanwhile (the bot's start-up, before it serves): the sums are
// built in memory and written once, several times faster.
func (db *DB) RebuildTalliesExclusive() (TallyResult, error) {
	if db.tallier == nil {
		return TallyResult{}, errors.New("store: rebuild counters: no tallier")
	}
	return db.rebuildInMemory()
}

// rebuildChunk is how many tickets one rebuild transaction counts.
const rebuildChunk = 5000

// RebuildTallies builds the counters afresh from every ticket, in
// transactions of bounded size; tickets written meanwhile keep them in
// step. It needs a Tallier.
func (db *DB) RebuildTallies() (TallyResult, error) {
	var res TallyResult
	if db.tallier == nil {
		return res, errors.New("store: rebuild counters: no tallier")
	}
	err := db.Update(func(tx *Tx) error { return tx.resetTallies() })
	if err != nil {
		return res, fmt.Errorf("store: rebuild counters: %w", err)
	}
	var after uint64
	for done := false; !done; {
		err := db.Update(func(tx *Tx) error {
			n := 0
			done = true
			roll := rollAcc{} // the chunk's rollups, applied at once
			c := tx.bucket(bucketTickets).Cursor()
			for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
				if n == rebuildChunk {
					done = false
					break
				}
				t, err := decodeTicket(v)
				if err != nil {
					return err
				}
				if err := tx.retallyAcc(t, roll); err != nil {
					return err
				}
				after = t.ID
				n++
				res.Tickets++
			}
			return roll.flush(txKV{tx.tx})
		})
		if err != nil {
			return res, fmt.Errorf("store: rebuild counters: %w", err)
		}
	}
	err = db.Update(func(tx *Tx) error {
		if tx.TallyState() != TallyBuilding {
			return nil // a program without counters wrote meanwhile: stays stale
		}
		return tx.setTallyState(TallyOK)
	})
	return res, err
}

// CheckTallies recounts every ticket in one read transaction and compares
// the stored counters with the sums of fresh contributions.
func (db *DB) CheckTallies() (TallyResult, error) {
	var res TallyResult
	if db.tallier == nil {
		return res, errors.New("store: check counters: no tallier")
	}
	note := func(format string, args ...any) {
		res.Differences++
		if len(res.Examples) < 10 {
			res.Examples = append(res.Examples, fmt.Sprintf(format, args...))
		}
	}
	err := db.View(func(tx *Tx) error {
		if st := tx.TallyState(); st != TallyOK {
			note("counters are %q, not %q", st, TallyOK)
			if tx.tx.Bucket(bucketTallyTicket) == nil {
				return nil
			}
		}
		fresh := memKV{}
		roll := rollAcc{} // the rollups of every ticket, added up once
		err := tx.AllTickets(func(t *bansosbot.Ticket) error {
			tt, err := tx.tallier(tx, t)
			if err != nil {
				return err
			}
			res.Tickets++
			if !bytes.Equal(tx.tx.Bucket(bucketTallyTicket).Get(u64(t.ID)), encodeTicketTally(nil, tt)) {
				res.Stale++
			}
			return applyChange(fresh, t.ID, nil, tt, roll)
		})
		if err != nil {
			return err
		}
		if err := roll.flush(fresh); err != nil {
			return err
		}
		for _, name := range tallyBuckets {
			if bytes.Equal(name, bucketTallyTicket) {
				continue
			}
			want := fresh[string(name)]
			err := tx.tx.Bucket(name).ForEach(func(k, v []byte) error {
				w, ok := want[string(k)]
				switch {
				case !ok:
					note("%s %x: stored, should not be there", name, k)
				case !sameRecord(name, w, v):
					note("%s %x: stored %x, recount %x", name, k, v, w)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for k := range want {
				if tx.tx.Bucket(name).Get([]byte(k)) == nil {
					note("%s %x: missing", name, k)
				}
			}
		}
		return nil
	})
	return res, err
}

// sameRecord compares two encodings of a counter record; entry lists may
// be in another order.
func sameRecord(bucket, a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	switch {
	case bytes.Equal(bucket, bucketTallyDay):
		x, err1 := decodeDayEntries(a)
		y, err2 := decodeDayEntries(b)
		if err1 != nil || err2 != nil || len(x) != len(y) {
			return false
		}
		for _, e := range x {
			j := slices.IndexFunc(y, func(f dayEntry) bool { return f.group == e.group })
			if j < 0 || !bytes.Equal(encodeTally(nil, &e.tally), encodeTally(nil, &y[j].tally)) {
				return false
			}
		}
		return true
	case bytes.Equal(bucket, bucketTallyOverdue):
		x, err1 := decodeDeltaEntries(a)
		y, err2 := decodeDeltaEntries(b)
		if err1 != nil || err2 != nil || len(x) != len(y) {
			return false
		}
		for _, e := range x {
			if !slices.Contains(y, e) {
				return false
			}
		}
		return true
	}
	return false
}

// HasTallier reports whether PutTicket keeps the counters.
func (db *DB) HasTallier() bool { return db.tallier != nil }

// TallyState is the counters' state (see keyTallyState).
func (db *DB) TallyState() (string, error) {
	var s string
	err := db.View(func(tx *Tx) error { s = tx.TallyState(); return nil })
	return s, err
}

// rebuildInMemory is RebuildTallies for a store nobody else writes (the
// bot's start, before it serves): the sums are built in memory and
// written once, instead of rewriting the day records for every ticket.
func (db *DB) rebuildInMemory() (TallyResult, error) {
	var res TallyResult
	if err := db.Update(func(tx *Tx) error { return tx.resetTallies() }); err != nil {
		return res, fmt.Errorf("store: rebuild counters: %w", err)
	}
	type dayAgg struct {
		entries []dayEntry
		index   map[bansosbot.TallyGroup]int
	}
	type deltaAgg struct {
		entries []deltaEntry
		index   map[bansosbot.TallyGroup]int
	}
	days := map[string]*dayAgg{}
	deltas := map[string]*deltaAgg{}
	counts := map[string]int64{} // status and province counters: bucket name + 0 + key
	// The rollups are derived at the end from the day sums, and the
	// open tickets' deadlines by group and day: far fewer than tickets.
	type dueKey struct {
		day int32
		g   bansosbot.TallyGroup
	}
	due := map[dueKey]int64{}
	var open [][2][]byte
	var after uint64
	for done := false; !done; {
		err := db.Update(func(tx *Tx) error {
			n := 0
			done = true
			b := tx.bucket(bucketTallyTicket)
			c := tx.bucket(bucketTickets).Cursor()
			for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
				if n == rebuildChunk*4 {
					done = false
					return nil
				}
				t, err := decodeTicket(v)
				if err != nil {
					return err
				}
				tt, err := tx.tallier(tx, t)
				if err != nil {
					return fmt.Errorf("counters of ticket %d: %w", t.ID, err)
				}
				if err := b.Put(u64(t.ID), encodeTicketTally(nil, tt)); err != nil {
					return err
				}
				g := tt.Group
				kab := kabOf(g.Region)
				for i := range tt.Days {
					key := string(dayKey(tt.Days[i].Day, kab))
					a := days[key]
					if a == nil {
						a = &dayAgg{index: map[bansosbot.TallyGroup]int{}}
						days[key] = a
					}
					j, ok := a.index[g]
					if !ok {
						j = len(a.entries)
						a.index[g] = j
						a.entries = append(a.entries, dayEntry{group: g})
					}
					a.entries[j].tally.Add(&tt.Days[i].Tally, 1)
				}
				for _, d := range tt.Overdue {
					key := string(dayKey(d.Day, kab))
					a := deltas[key]
					if a == nil {
						a = &deltaAgg{index: map[bansosbot.TallyGroup]int{}}
						deltas[key] = a
					}
					j, ok := a.index[g]
					if !ok {
						j = len(a.entries)
						a.index[g] = j
						a.entries = append(a.entries, deltaEntry{group: g})
					}
					a.entries[j].delta += d.Delta
				}
				if !tt.OverdueFrom.IsZero() {
					open = append(open, [2][]byte{append(i64(tt.OverdueFrom.UnixNano()), u64(t.ID)...), encodeGroup(nil, g)})
				}
				if !tt.OverdueFrom.IsZero() {
					due[dueKey{utcDay(tt.OverdueFrom), g}]++
				}
				counts[string(bucketTallyStatus)+"\x00"+string(statusTallyKey(g, tt.Status))]++
				counts[string(bucketTallyProv)+"\x00"+string(tt.Status)+"\x00"+string(g.Region.Province())]++
				after = t.ID
				n++
				res.Tickets++
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("store: rebuild counters: %w", err)
		}
	}
	err := db.Update(func(tx *Tx) error {
		sorted := func(m []string) []string { slices.Sort(m); return m }
		var keys []string
		for k := range days {
			keys = append(keys, k)
		}
		for _, k := range sorted(keys) {
			es := slices.DeleteFunc(days[k].entries, func(e dayEntry) bool { return e.tally.IsZero() })
			if err := putOrDelete(txKV{tx.tx}, bucketTallyDay, []byte(k), encodeDayEntries(es)); err != nil {
				return err
			}
		}
		keys = keys[:0]
		for k := range deltas {
			keys = append(keys, k)
		}
		for _, k := range sorted(keys) {
			es := slices.DeleteFunc(deltas[k].entries, func(e deltaEntry) bool { return e.delta == 0 })
			if err := putOrDelete(txKV{tx.tx}, bucketTallyOverdue, []byte(k), encodeDeltaEntries(es)); err != nil {
				return err
			}
		}
		roll := rollAcc{}
		keysOf := map[bansosbot.TallyGroup][2][][]byte{}
		gkeys := func(g bansosbot.TallyGroup) ([]byte, [][]byte) {
			k, ok := keysOf[g]
			if !ok {
				k = [2][][]byte{{groupKey(g)}, areaKeys(g)}
				keysOf[g] = k
			}
			return k[0][0], k[1]
		}
		var buf []byte
		for k, a := range days {
			day := int32(binary.BigEndian.Uint32([]byte(k)))
			for i := range a.entries { // (the zero ones were cleared above)
				if a.entries[i].tally.IsZero() {
					continue
				}
				gk, areas := gkeys(a.entries[i].group)
				buf = roll.addDay(buf, gk, areas, day, &a.entries[i].tally, 1)
			}
		}
		for k, a := range deltas {
			day := int32(binary.BigEndian.Uint32([]byte(k)))
			for _, e := range a.entries {
				if e.delta == 0 {
					continue
				}
				gk, areas := gkeys(e.group)
				buf = roll.addCount(buf, seriesOverdue, areaOverdue, spanWeek, gk, areas, day-1, e.delta)
			}
		}
		for k, n := range due {
			gk, areas := gkeys(k.g)
			buf = roll.addCount(buf, seriesDue, areaDue, spanDay, gk, areas, k.day, n)
		}
		if err := roll.flush(txKV{tx.tx}); err != nil {
			return err
		}
		slices.SortFunc(open, func(a, b [2][]byte) int { return bytes.Compare(a[0], b[0]) })
		ob := tx.bucket(bucketTallyOpen)
		for _, kv := range open {
			if err := ob.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		keys = keys[:0]
		for k := range counts {
			keys = append(keys, k)
		}
		for _, k := range sorted(keys) {
			bucket, key, _ := strings.Cut(k, "\x00")
			if err := tx.bucket([]byte(bucket)).Put([]byte(key), u64(uint64(counts[k]))); err != nil {
				return err
			}
		}
		if tx.TallyState() != TallyBuilding {
			return nil
		}
		return tx.setTallyState(TallyOK)
	})
	return res, err
}
