package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bansosbot/bansosbot"
)

// Record values, format 1:
//
//	1        format (1)
//	16       name verifier
//	1        desil (0: none)
//	1        province of the NIK as a number (0: unknown)
//	uvarint  bit i set: receives program i of the snapshot
//	per program: period, remark as text references (see dict)
//	rest     masked name
//
// About 40 bytes against about 250 for the same record in JSON (see
// BenchmarkRecordEncoding).
const recordFormat = 1

// dict interns the periods and remarks of a snapshot: a few texts repeat
// across millions of records ("Oktober-Desember 2026"), so a record keeps a
// number. A text reference is a uvarint: 0 is "", 2·id+1 a text of the
// dictionary, 2·len a text of len bytes that follows inline (once the
// dictionary is full, free-text remarks do not grow it without bound).
type dict struct {
	ids  map[string]uint32
	strs []string
}

const maxDictTexts = 1 << 16

func (d *dict) appendText(buf []byte, s string) []byte {
	if s == "" {
		return append(buf, 0)
	}
	id, ok := d.ids[s]
	if !ok && len(d.strs) < maxDictTexts {
		if d.ids == nil {
			d.ids = map[string]uint32{}
		}
		s = strings.Clone(s) // s shares memory with a whole CSV row
		id, ok = uint32(len(d.strs)), true
		d.ids[s] = id
		d.strs = append(d.strs, s)
	}
	if ok {
		return binary.AppendUvarint(buf, uint64(id)<<1|1)
	}
	buf = binary.AppendUvarint(buf, uint64(len(s))<<1)
	return append(buf, s...)
}

func appendRecord(buf []byte, r *bansosbot.Record, d *dict) []byte {
	buf = append(buf, recordFormat)
	buf = append(buf, r.Name[:]...)
	prov, _ := strconv.Atoi(string(r.Province))
	if prov < 0 || prov > 99 {
		prov = 0
	}
	buf = append(buf, byte(r.Desil), byte(prov))
	var mask uint64
	for i, p := range r.Programs {
		if p.Receives {
			mask |= 1 << i
		}
	}
	buf = binary.AppendUvarint(buf, mask)
	for _, p := range r.Programs {
		buf = d.appendText(buf, p.Period)
		buf = d.appendText(buf, p.Remark)
	}
	return append(buf, r.Masked...)
}

var errBadRecord = errors.New("store: malformed registry record")

func decodeRecord(v []byte, programs bansosbot.Programs, text func(uint32) (string, error)) (*bansosbot.Record, error) {
	if len(v) < 20 || v[0] != recordFormat {
		return nil, errBadRecord
	}
	r := &bansosbot.Record{Desil: int(v[17]), Programs: make([]bansosbot.ProgramStatus, len(programs))}
	copy(r.Name[:], v[1:17])
	if v[18] != 0 {
		r.Province = bansosbot.RegionCode(fmt.Sprintf("%02d", v[18]))
	}
	v = v[19:]
	mask, n := binary.Uvarint(v)
	if n <= 0 {
		return nil, errBadRecord
	}
	v = v[n:]
	readText := func() (string, error) {
		ref, n := binary.Uvarint(v)
		if n <= 0 {
			return "", errBadRecord
		}
		v = v[n:]
		switch {
		case ref == 0:
			return "", nil
		case ref&1 == 1:
			return text(uint32(ref >> 1))
		}
		l := ref >> 1
		if uint64(len(v)) < l {
			return "", errBadRecord
		}
		s := string(v[:l])
		v = v[l:]
		return s, nil
	}
	for i, p := range programs {
		st := &r.Programs[i]
		st.Code, st.Receives = p.Code, mask&(1<<i) != 0
		var err error
		if st.Period, err = readText(); err != nil {
			return nil, err
		}
		if st.Remark, err = readText(); err != nil {
			return nil, err
		}
	}
	r.Masked = string(v)
	return r, nil
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
