package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Rollups of the report counters, so that what a report or a dashboard
// page reads depends on its periods and the number of groups, not on the
// number of tickets nor on the length of the history. They are kept in
// the same transactions as the day records, per group, in one bucket:
//
//	series(1) span(1) start(4) region 0 category 0 restricted(1) -> value
//
// span is 'd' (a day), 'w' (a week from Monday) or 'm' (a calendar month);
// start is the span's first day (bansosbot.DayNumber). The series:
//
//   - 't': the group's Tally summed over a week or a month (the days are
//     the day records of bucketTallyDay);
//   - 'o': the changes of the number of overdue tickets (bucketTallyOverdue)
//     summed by the day before the midnight they happen at, so that "overdue
//     at the midnight starting day D" is the sum over the days before D: a
//     period's end is a whole number of weeks or months of them;
//   - 'q': the open tickets by the UTC day from which they are overdue
//     (TicketTally.OverdueFrom), by day, week and month: the number overdue
//     now is the sum over the days before today plus today's from the
//     time-ordered index bucketTallyOpen.
//
// The same three per area instead of per group, by day, week and month,
// as 'h', 'O' and 'Q' with the key
//
//	series(1) span(1) start(4) area 0 restricted(1)
//
// where the area is the nation (""), the group's province, kabupaten/kota
// and kecamatan: a total of an area (a dashboard page, a trend) reads a
// few records, whatever the number of groups and tickets under it.
var bucketTallyRoll = []byte("tally_roll")

// tallyFormat is the layout of the counters; counters of another layout
// read as stale, and the bot rebuilds them at start.
const tallyFormat = "2"

var keyTallyFormat = []byte("tally_format")

const (
	seriesTally   = 't'
	seriesOverdue = 'o'
	seriesDue     = 'q'
	areaTally     = 'h'
	areaOverdue   = 'O'
	areaDue       = 'Q'

	spanDay   = 'd'
	spanWeek  = 'w'
	spanMonth = 'm'
)

// weekStart is the Monday of the week of day (day 0, 1970-01-01, is a
// Thursday).
func weekStart(day int32) int32 {
	return day - ((day-4)%7+7)%7
}

// monthStart is the first day of day's month, next the first of the next.
func monthStart(day int32) (start, next int32) {
	y, m, _ := time.Unix(int64(day)*86400, 0).UTC().Date()
	return bansosbot.DayNumber(y, m, 1), bansosbot.DayNumber(y, m+1, 1)
}

func spanStart(span byte, day int32) int32 {
	switch span {
	case spanWeek:
		return weekStart(day)
	case spanMonth:
		s, _ := monthStart(day)
		return s
	}
	return day
}

// utcDay is the UTC day of an instant.
func utcDay(x time.Time) int32 {
	s := x.Unix()
	if s < 0 {
		return int32((s - 86399) / 86400)
	}
	return int32(s / 86400)
}

type span struct {
	kind  byte
	start int32
}

// spans cuts the days from..to (exclusive) into whole months, whole weeks
// and single days, months first.
func spans(from, to int32) []span {
	var out []span
	for d := from; d < to; {
		ms, next := monthStart(d)
		if ms == d && next <= to {
			out = append(out, span{spanMonth, d})
			d = next
			continue
		}
		// A week that would cross the start of a month that fits whole
		// leaves those days single.
		_, nn := monthStart(next)
		if weekStart(d) == d && d+7 <= to && (d+7 <= next || nn > to) {
			out = append(out, span{spanWeek, d})
			d += 7
			continue
		}
		out = append(out, span{spanDay, d})
		d++
	}
	return out
}

func groupKey(g bansosbot.TallyGroup) []byte {
	k := append(append([]byte(g.Region), 0), g.Category...)
	return append(k, 0, boolByte(g.Restricted))
}

func rollKey(series, span byte, start int32, gk []byte) []byte {
	return rollKeyTo(make([]byte, 0, 6+len(gk)), series, span, start, gk)
}

// rollKeyTo is rollKey appended to b.
func rollKeyTo(b []byte, series, span byte, start int32, gk []byte) []byte {
	b = append(b, series, span)
	b = binary.BigEndian.AppendUint32(b, uint32(start))
	return append(b, gk...)
}

// parseGroupKey reads groupKey's encoding, decoding each distinct one once
// per cache.
func parseGroupKey(b []byte, cache map[string]bansosbot.TallyGroup) (bansosbot.TallyGroup, error) {
	if g, ok := cache[string(b)]; ok {
		return g, nil
	}
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return bansosbot.TallyGroup{}, errTallyFormat
	}
	j := bytes.IndexByte(b[i+1:], 0)
	if j < 0 || i+1+j+2 != len(b) {
		return bansosbot.TallyGroup{}, errTallyFormat
	}
	j += i + 1
	g := bansosbot.TallyGroup{Region: bansosbot.RegionCode(b[:i]), Category: string(b[i+1 : j]), Restricted: b[j+1] == 1}
	cache[string(b)] = g
	return g, nil
}

// areaKeys are the area parts of the keys of g's area records.
func areaKeys(g bansosbot.TallyGroup) [][]byte {
	r := boolByte(g.Restricted)
	out := [][]byte{{0, r}}
	for lvl := 1; lvl <= g.Region.Level() && lvl <= bansosbot.TallyLevel; lvl++ {
		var a bansosbot.RegionCode
		switch lvl {
		case 1:
			a = g.Region.Province()
		case 2:
			a = g.Region.Regency()
		default:
			a = g.Region.District()
		}
		out = append(out, append(append([]byte(a), 0), r))
	}
	return out
}

func areaKey(area bansosbot.RegionCode, restricted bool) []byte {
	return append(append([]byte(area), 0), boolByte(restricted))
}

// rollAcc collects changes of rollup records before they are applied.
type rollAcc map[string]*rollVal

type rollVal struct {
	t              bansosbot.Tally // series 't' and 'h'; digests appended, normalized on flush
	n              int64           // the others
	normRe, normRs int             // appendDigest's sizes
}

func (a rollAcc) at(k []byte) *rollVal {
	v := a[string(k)]
	if v == nil {
		v = &rollVal{}
		a[string(k)] = v
	}
	return v
}

// appendDigest appends sign × o to d, and sorts and adds up d's bins
// when it has grown to twice its size at the last time (so that a
// rebuild's sums stay small); *norm is that size.
func appendDigest(d, o bansosbot.Digest, sign int64, norm *int) bansosbot.Digest {
	for _, b := range o {
		d = append(d, bansosbot.Bin{Minutes: b.Minutes, N: sign * b.N})
	}
	if len(d) >= 1024 && len(d) >= 2**norm {
		d = d.Normalized()
		*norm = len(d)
	}
	return d
}

func (v *rollVal) addTally(o *bansosbot.Tally, sign int64) {
	t := &v.t
	t.Received += sign * o.Received
	t.Responses += sign * o.Responses
	t.ResponsesOnTime += sign * o.ResponsesOnTime
	t.Resolved += sign * o.Resolved
	t.ResolvedOnTime += sign * o.ResolvedOnTime
	t.Rated += sign * o.Rated
	t.RatingSum += sign * o.RatingSum
	t.ResponseMinutes = appendDigest(t.ResponseMinutes, o.ResponseMinutes, sign, &v.normRe)
	t.ResolutionMinutes = appendDigest(t.ResolutionMinutes, o.ResolutionMinutes, sign, &v.normRs)
}

// add adds sign × tt's rollups.
func (a rollAcc) add(tt *bansosbot.TicketTally, sign int64) {
	gk, areas := groupKey(tt.Group), areaKeys(tt.Group)
	var buf []byte
	for i := range tt.Days {
		buf = a.addDay(buf, gk, areas, tt.Days[i].Day, &tt.Days[i].Tally, sign)
	}
	for _, d := range tt.Overdue {
		buf = a.addCount(buf, seriesOverdue, areaOverdue, spanWeek, gk, areas, d.Day-1, sign*d.Delta)
	}
	if !tt.OverdueFrom.IsZero() {
		a.addCount(buf, seriesDue, areaDue, spanDay, gk, areas, utcDay(tt.OverdueFrom), sign)
	}
}

// addDay adds sign × t, a group's counters of a day, to its week and
// month and to its areas' day, week and month; buf is scratch space
// (returned for the next call).
func (a rollAcc) addDay(buf, gk []byte, areas [][]byte, day int32, t *bansosbot.Tally, sign int64) []byte {
	for _, sp := range []byte{spanDay, spanWeek, spanMonth} {
		start := spanStart(sp, day)
		if sp != spanDay {
			buf = rollKeyTo(buf[:0], seriesTally, sp, start, gk)
			a.at(buf).addTally(t, sign)
		}
		for _, ak := range areas {
			buf = rollKeyTo(buf[:0], areaTally, sp, start, ak)
			a.at(buf).addTally(t, sign)
		}
	}
	return buf
}

// addCount adds n to a count series of the group (from span on: 'o'
// keeps no days, 'q' does) and of its areas (days, weeks, months) at day.
func (a rollAcc) addCount(buf []byte, series, area, from byte, gk []byte, areas [][]byte, day int32, n int64) []byte {
	for _, sp := range []byte{spanDay, spanWeek, spanMonth} {
		start := spanStart(sp, day)
		if sp != spanDay || from == spanDay {
			buf = rollKeyTo(buf[:0], series, sp, start, gk)
			a.at(buf).n += n
		}
		for _, ak := range areas {
			buf = rollKeyTo(buf[:0], area, sp, start, ak)
			a.at(buf).n += n
		}
	}
	return buf
}

// flush adds the collected changes to the stored records (in key order).
func (a rollAcc) flush(s kv) error {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, key := a[k], []byte(k)
		if key[0] == seriesTally || key[0] == areaTally {
			v.t.ResponseMinutes = v.t.ResponseMinutes.Normalized()
			v.t.ResolutionMinutes = v.t.ResolutionMinutes.Normalized()
			if v.t.IsZero() {
				continue
			}
			var cur bansosbot.Tally
			if old := s.get(bucketTallyRoll, key); old != nil {
				r := &reader{b: old}
				if cur = r.tally(); r.err != nil {
					return fmt.Errorf("store: rollup %x: %w", key, r.err)
				}
			}
			cur.Add(&v.t, 1)
			if err := putOrDelete(s, bucketTallyRoll, key, encodeTallyOrNil(&cur)); err != nil {
				return err
			}
			continue
		}
		if v.n == 0 {
			continue
		}
		var n int64
		if old := s.get(bucketTallyRoll, key); old != nil {
			r := &reader{b: old}
			if n = r.varint(); r.err != nil {
				return fmt.Errorf("store: rollup %x: %w", key, r.err)
			}
		}
		n += v.n
		var enc []byte
		if n != 0 {
			enc = binary.AppendVarint(nil, n)
		}
		if err := putOrDelete(s, bucketTallyRoll, key, enc); err != nil {
			return err
		}
	}
	return nil
}

func encodeTallyOrNil(t *bansosbot.Tally) []byte {
	if t.IsZero() {
		return nil
	}
	return encodeTally(nil, t)
}

// regionPrefix reports whether a group key (or a day key's kab) b is of
// a region under region.
func regionPrefixed(b []byte, region bansosbot.RegionCode) bool {
	if !bytes.HasPrefix(b, []byte(region)) {
		return false
	}
	if len(region) == 0 {
		return true
	}
	rest := b[len(region):]
	return len(rest) > 0 && (rest[0] == 0 || rest[0] == '.')
}

// rollRecords calls fn with the records of a series' span under region.
func (tx *Tx) rollRecords(series byte, sp span, region bansosbot.RegionCode, groups map[string]bansosbot.TallyGroup, fn func(g bansosbot.TallyGroup, v []byte) error) error {
	b := tx.tx.Bucket(bucketTallyRoll)
	if b == nil {
		return nil
	}
	prefix := rollKey(series, sp.kind, sp.start, []byte(region))
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		gk := k[6:]
		if !regionPrefixed(gk, region) {
			continue
		}
		g, err := parseGroupKey(gk, groups)
		if err != nil {
			return fmt.Errorf("store: rollup %x: %w", k, err)
		}
		if err := fn(g, v); err != nil {
			return err
		}
	}
	return nil
}

// countsOnly reads a Tally's counts and leaves its digests.
func (r *reader) countsOnly() bansosbot.Tally {
	var t bansosbot.Tally
	for _, p := range []*int64{&t.Received, &t.Responses, &t.ResponsesOnTime, &t.Resolved, &t.ResolvedOnTime, &t.Rated, &t.RatingSum} {
		*p = r.varint()
	}
	return t
}

// TallySums calls fn with counters of the groups under region whose sum
// per group is the group's counters over the days from (inclusive) to
// to (exclusive); the digests only when medians. It reads whole months
// and weeks from the rollups and the days at the edges.
func (tx *Tx) TallySums(from, to int32, region bansosbot.RegionCode, medians bool, fn func(g bansosbot.TallyGroup, t *bansosbot.Tally)) error {
	groups := map[string]bansosbot.TallyGroup{}
	ss := spans(from, to)
	for i := 0; i < len(ss); i++ {
		sp := ss[i]
		if sp.kind == spanDay {
			j := i
			for j+1 < len(ss) && ss[j+1].kind == spanDay {
				j++
			}
			if err := tx.dayTallies(sp.start, ss[j].start+1, region, groups, medians, fn); err != nil {
				return err
			}
			i = j
			continue
		}
		err := tx.rollRecords(seriesTally, sp, region, groups, func(g bansosbot.TallyGroup, v []byte) error {
			r := &reader{b: v}
			var t bansosbot.Tally
			if medians {
				t = r.tally()
			} else {
				t = r.countsOnly()
			}
			if r.err != nil {
				return fmt.Errorf("store: rollup of %d: %w", sp.start, r.err)
			}
			fn(g, &t)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dayTallies calls fn with the day records of the days from..to.
func (tx *Tx) dayTallies(from, to int32, region bansosbot.RegionCode, groups map[string]bansosbot.TallyGroup, medians bool, fn func(g bansosbot.TallyGroup, t *bansosbot.Tally)) error {
	b := tx.tx.Bucket(bucketTallyDay)
	if b == nil || from >= to {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(dayKey(from, "")); k != nil; k, v = c.Next() {
		day := int32(binary.BigEndian.Uint32(k))
		if day >= to {
			break
		}
		if !underRegion(region, bansosbot.RegionCode(k[4:])) {
			continue
		}
		r := &reader{b: v}
		for len(r.b) > 0 && r.err == nil {
			g := r.groupCached(groups)
			var t bansosbot.Tally
			if medians {
				t = r.tally()
			} else {
				t = r.countsOnly()
				r.skipDigests()
			}
			if r.err == nil && region.Covers(g.Region) {
				fn(g, &t)
			}
		}
		if r.err != nil {
			return fmt.Errorf("store: counters of day %d: %w", day, r.err)
		}
	}
	return nil
}

func (r *reader) skipDigests() {
	for range 2 {
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			r.err, r.b = errTallyFormat, nil
			return
		}
		for range 2 * n {
			r.uvarint() // a uvarint and a varint both end at a byte < 0x80
		}
	}
}

// OverdueAt calls fn(i, g, n) with numbers whose sum per cut and group
// is the number of the group's tickets under region overdue at the
// local midnight starting day cuts[i] (the end of a period ending
// before that day), as the tickets' stored times tell.
func (tx *Tx) OverdueAt(cuts []int32, region bansosbot.RegionCode, fn func(i int, g bansosbot.TallyGroup, n int64)) error {
	if len(cuts) == 0 {
		return nil
	}
	db := tx.tx.Bucket(bucketTallyOverdue)
	if db == nil {
		return nil
	}
	first, _ := db.Cursor().First()
	if first == nil {
		return nil
	}
	order := make([]int, len(cuts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(cuts[a]) - int(cuts[b]) })
	groups := map[string]bansosbot.TallyGroup{}
	sums := map[bansosbot.TallyGroup]int64{}
	// Shifted days: a change at day d counts from the day before, d-1, so
	// that the sum up to the midnight starting D is the sum of days < D.
	// Nothing is before the first day: start at its month's first, so
	// that the history is read in whole months.
	pos, _ := monthStart(int32(binary.BigEndian.Uint32(first)) - 1)
	for _, i := range order {
		end := cuts[i]
		if pos < end {
			for _, sp := range spans(pos, end) {
				var err error
				if sp.kind == spanDay {
					err = tx.overdueDay(sp.start+1, region, groups, sums)
				} else {
					err = tx.rollRecords(seriesOverdue, sp, region, groups, func(g bansosbot.TallyGroup, v []byte) error {
						r := &reader{b: v}
						n := r.varint()
						sums[g] += n
						return r.err
					})
				}
				if err != nil {
					return err
				}
			}
			pos = end
		}
		for g, n := range sums {
			if n != 0 {
				fn(i, g, n)
			}
		}
	}
	return nil
}

// overdueDay adds the overdue changes of one day to sums.
func (tx *Tx) overdueDay(day int32, region bansosbot.RegionCode, groups map[string]bansosbot.TallyGroup, sums map[bansosbot.TallyGroup]int64) error {
	c := tx.tx.Bucket(bucketTallyOverdue).Cursor()
	for k, v := c.Seek(dayKey(day, "")); k != nil && int32(binary.BigEndian.Uint32(k)) == day; k, v = c.Next() {
		if !underRegion(region, bansosbot.RegionCode(k[4:])) {
			continue
		}
		r := &reader{b: v}
		for len(r.b) > 0 && r.err == nil {
			g := r.groupCached(groups)
			d := r.varint()
			if r.err == nil && region.Covers(g.Region) {
				sums[g] += d
			}
		}
		if r.err != nil {
			return fmt.Errorf("store: overdue counters of day %d: %w", day, r.err)
		}
	}
	return nil
}

// OverdueNow calls fn(g, n) with numbers whose sum per group is the
// number of the group's open tickets under region overdue at now (as the
// queues show them).
func (tx *Tx) OverdueNow(now time.Time, region bansosbot.RegionCode, fn func(g bansosbot.TallyGroup, n int64)) error {
	rb := tx.tx.Bucket(bucketTallyRoll)
	if rb == nil {
		return nil
	}
	groups := map[string]bansosbot.TallyGroup{}
	today := utcDay(now)
	// The days before today: from the first day with an open ticket's
	// deadline on.
	first, _ := rb.Cursor().Seek([]byte{seriesDue, spanDay})
	if first != nil && len(first) >= 6 && first[0] == seriesDue && first[1] == spanDay {
		start, _ := monthStart(int32(binary.BigEndian.Uint32(first[2:6])))
		for _, sp := range spans(start, today) {
			err := tx.rollRecords(seriesDue, sp, region, groups, func(g bansosbot.TallyGroup, v []byte) error {
				r := &reader{b: v}
				n := r.varint()
				if r.err == nil {
					fn(g, n)
				}
				return r.err
			})
			if err != nil {
				return err
			}
		}
	}
	// Today, up to now: the index of open tickets by overdue instant.
	c := tx.tx.Bucket(bucketTallyOpen).Cursor()
	limit := now.UnixNano()
	groups = map[string]bansosbot.TallyGroup{} // encodeGroup's encodings now
	for k, v := c.Seek(i64(int64(today) * 86400 * 1e9)); k != nil; k, v = c.Next() {
		if len(k) != 16 {
			return fmt.Errorf("store: open overdue index %x: %w", k, errTallyFormat)
		}
		if int64(binary.BigEndian.Uint64(k)) > limit {
			break
		}
		g, ok := groups[string(v)]
		if !ok {
			r := &reader{b: v}
			if g = r.group(); r.err != nil {
				return fmt.Errorf("store: open overdue index: %w", r.err)
			}
			groups[string(v)] = g
		}
		if region.Covers(g.Region) {
			fn(g, 1)
		}
	}
	return nil
}

// Area totals.

// areaValues calls fn with the value of each of the spans' records of a
// series for the area.
func (tx *Tx) areaValues(series byte, ss []span, area bansosbot.RegionCode, restricted bool, fn func(sp span, v []byte) error) error {
	b := tx.tx.Bucket(bucketTallyRoll)
	if b == nil {
		return nil
	}
	ak := areaKey(area, restricted)
	for _, sp := range ss {
		if v := b.Get(rollKey(series, sp.kind, sp.start, ak)); v != nil {
			if err := fn(sp, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// AreaSums is the sum of the counters of the groups under area with the
// restriction over the days from (inclusive) to to (exclusive); the
// digests only when medians.
func (tx *Tx) AreaSums(from, to int32, area bansosbot.RegionCode, restricted, medians bool) (bansosbot.Tally, error) {
	var sum bansosbot.Tally
	err := tx.areaValues(areaTally, spans(from, to), area, restricted, func(sp span, v []byte) error {
		r := &reader{b: v}
		var t bansosbot.Tally
		if medians {
			t = r.tally()
		} else {
			t = r.countsOnly()
		}
		if r.err != nil {
			return fmt.Errorf("store: area counters %c%d %q: %w", sp.kind, sp.start, area, r.err)
		}
		sum.Add(&t, 1)
		return nil
	})
	return sum, err
}

// firstAreaDay is the first day of the month of an area series' first
// day record.
func (tx *Tx) firstAreaDay(series byte) (int32, bool) {
	b := tx.tx.Bucket(bucketTallyRoll)
	if b == nil {
		return 0, false
	}
	k, _ := b.Cursor().Seek([]byte{series, spanDay})
	if len(k) < 6 || k[0] != series || k[1] != spanDay {
		return 0, false
	}
	first, _ := monthStart(int32(binary.BigEndian.Uint32(k[2:6]))) // nothing before: whole months
	return first, true
}

func (tx *Tx) areaCount(series byte, from, to int32, area bansosbot.RegionCode, restricted bool) (int64, error) {
	var n int64
	err := tx.areaValues(series, spans(from, to), area, restricted, func(sp span, v []byte) error {
		r := &reader{b: v}
		n += r.varint()
		return r.err
	})
	return n, err
}

// AreaOverdueAt is, for each cut, the number of tickets under area with
// the restriction overdue at the local midnight starting day cuts[i].
func (tx *Tx) AreaOverdueAt(cuts []int32, area bansosbot.RegionCode, restricted bool) ([]int64, error) {
	out := make([]int64, len(cuts))
	first, ok := tx.firstAreaDay(areaOverdue)
	if !ok {
		return out, nil
	}
	order := make([]int, len(cuts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(cuts[a]) - int(cuts[b]) })
	pos, sum := first, int64(0)
	for _, i := range order {
		if pos < cuts[i] {
			n, err := tx.areaCount(areaOverdue, pos, cuts[i], area, restricted)
			if err != nil {
				return nil, err
			}
			sum, pos = sum+n, cuts[i]
		}
		out[i] = sum
	}
	return out, nil
}

// AreaOverdueNow is the number of open tickets under area with the
// restriction overdue at now.
func (tx *Tx) AreaOverdueNow(now time.Time, area bansosbot.RegionCode, restricted bool) (int64, error) {
	var n int64
	today := utcDay(now)
	if first, ok := tx.firstAreaDay(areaDue); ok {
		var err error
		if n, err = tx.areaCount(areaDue, first, today, area, restricted); err != nil {
			return 0, err
		}
	}
	b := tx.tx.Bucket(bucketTallyOpen)
	if b == nil {
		return n, nil
	}
	c := b.Cursor()
	limit := now.UnixNano()
	groups := map[string]bansosbot.TallyGroup{}
	for k, v := c.Seek(i64(int64(today) * 86400 * 1e9)); k != nil; k, v = c.Next() {
		if len(k) != 16 {
			return 0, fmt.Errorf("store: open overdue index %x: %w", k, errTallyFormat)
		}
		if int64(binary.BigEndian.Uint64(k)) > limit {
			break
		}
		g, ok := groups[string(v)]
		if !ok {
			r := &reader{b: v}
			if g = r.group(); r.err != nil {
				return 0, fmt.Errorf("store: open overdue index: %w", r.err)
			}
			groups[string(v)] = g
		}
		if g.Restricted == restricted && area.Covers(g.Region) {
			n++
		}
	}
	return n, nil
}
