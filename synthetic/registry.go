// Package synthetic generates a deterministic, synthetic eligibility
// registry for the demo, tests and benchmarks: a CSV file in the format of
// bansosbot.RegistryColumns with valid NIKs (real district codes of the
// embedded Kemendagri list, real birth dates, both sexes), Indonesian names
// in the naming traditions of each province (Javanese, Sundanese, Batak,
// Minang, Bugis, Balinese, Acehnese, Papuan ...), deciles, and program
// mixes that follow the decile as the programs' targeting does. The same
// seed always gives the same file. None of it is real data.
package synthetic

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Sample is a person to try in the demo.
type Sample struct {
	NIK        bansosbot.NIK
	Name       string // as in the file (upper case, as on the KTP)
	Registered bool   // false: a valid NIK that is not in the file
	Line       int    // line in the file; 0 when not registered
	Desil      int    // 0: none
	Receives   []string
	Unpaid     []string // programs received that pay out and whose remark does not say they were paid
}

// Options tune Generate.
type Options struct {
	N    int   // rows
	Seed int64 // same seed, same file
	// Programs are the program columns (default bansosbot.DefaultPrograms()).
	Programs bansosbot.Programs
	// AsOf dates the periods (default 1 October 2026).
	AsOf time.Time
	// Samples is how many registered people to return (default 4), plus
	// one valid NIK that is not registered.
	Samples int
}

// Registry writes n rows with the default programs and returns a few
// samples; see Generate.
func Registry(w io.Writer, n int, seed int64) ([]Sample, error) {
	return Generate(w, Options{N: n, Seed: seed})
}

// Generate writes a synthetic registry CSV to w.
func Generate(w io.Writer, opts Options) ([]Sample, error) {
	if opts.Programs == nil {
		opts.Programs = bansosbot.DefaultPrograms()
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.Samples == 0 {
		opts.Samples = 4
	}
	g := &generator{opts: opts, r: rand.New(rand.NewPCG(uint64(opts.Seed), 0x62616e736f73)), seen: newBloom(opts.N)}
	g.texts()
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("nik,name,desil")
	for _, p := range opts.Programs {
		fmt.Fprintf(bw, ",%s,%s_period,%s_remark", p.Code, p.Code, p.Code)
	}
	bw.WriteByte('\n')
	var samples []Sample
	var line []byte
	var cur row
	for i := range opts.N {
		if err := g.row(&cur); err != nil {
			return nil, err
		}
		line = g.format(line[:0], &cur)
		if _, err := bw.Write(line); err != nil {
			return nil, err
		}
		if len(samples) < opts.Samples && g.interesting(&cur, samples) {
			samples = append(samples, Sample{NIK: cur.nik, Name: cur.name, Registered: true, Line: i + 2,
				Desil: cur.desil, Receives: cur.receives(), Unpaid: cur.unpaid()})
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	// A NIK that is valid but not in the file: generated rows use serials
	// below 9000.
	var r row
	if err := g.person(&r, 9000+g.r.IntN(1000)); err != nil {
		return nil, err
	}
	samples = append(samples, Sample{NIK: r.nik, Name: r.name})
	return samples, nil
}

type generator struct {
	opts Options
	r    *rand.Rand
	seen *bloom
	// texts per program: the period when receiving, and remarks
	period  []string
	remarks [][]string
}

type row struct {
	g       *generator
	nik     bansosbot.NIK
	name    string
	desil   int
	yes     []bool
	remarks []string
}

func (r *row) receives() []string {
	var out []string
	for i, p := range r.g.opts.Programs {
		if r.yes[i] {
			out = append(out, p.Code)
		}
	}
	return out
}

// unpaid lists the programs the row receives that pay out to the
// household and whose remark does not say they were paid: the status check
// offers "not received yet" for them.
func (r *row) unpaid() []string {
	var out []string
	for i, p := range r.g.opts.Programs {
		if r.yes[i] && p.Payout && !(bansosbot.ProgramStatus{Code: p.Code, Receives: true, Remark: r.remarks[i]}).Paid() {
			out = append(out, p.Code)
		}
	}
	return out
}

var monthsID = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}

func (g *generator) texts() {
	y, m, _ := g.opts.AsOf.Date()
	q := (int(m) - 1) / 3
	quarter := fmt.Sprintf("%s-%s %d", monthsID[q*3], monthsID[q*3+2], y)
	for _, p := range g.opts.Programs {
		switch p.Code {
		case "PBI-JK":
			g.period = append(g.period, strconv.Itoa(y))
			g.remarks = append(g.remarks, []string{"Aktif", "Aktif", "Aktif", "Aktif", "Aktif", "Aktif", "Aktif", "Aktif", "Aktif", "Nonaktif sementara"})
		case "ATENSI":
			g.period = append(g.period, fmt.Sprintf("%d", y))
			g.remarks = append(g.remarks, []string{"Bantuan alat bantu", "Bantuan nutrisi", "Bantuan kewirausahaan"})
		default:
			g.period = append(g.period, fmt.Sprintf("Tahap %d (%s)", q+1, quarter))
			g.remarks = append(g.remarks, []string{"Dana sudah tersalurkan", "Dana sudah tersalurkan", "Dana sudah tersalurkan",
				"Dana sudah tersalurkan", "Dana sudah tersalurkan", "Dana sudah tersalurkan", "Dana sudah tersalurkan",
				"Proses penyaluran melalui Bank Himbara", "Proses penyaluran melalui Bank Himbara", "Proses penyaluran melalui PT Pos Indonesia"})
		}
	}
}

// desilWeights: index 0 is "no decile yet"; the registry leans to the
// lower deciles, where the programs are.
var desilWeights = [11]int{6, 14, 13, 12, 11, 10, 9, 8, 7, 6, 4}

// chance is the probability (per mille) of receiving a program by decile
// (index 0: no decile): targeted, with some inclusion errors.
var chance = map[string][11]int{
	"PKH":     {10, 450, 400, 300, 200, 30, 5, 5, 5, 5, 5},
	"SEMBAKO": {20, 650, 600, 500, 400, 100, 30, 5, 5, 5, 5},
	"PBI-JK":  {200, 850, 850, 850, 850, 850, 300, 100, 20, 20, 20},
	"ATENSI":  {5, 20, 20, 20, 5, 2, 2, 2, 2, 2, 2},
}

var otherChance = [11]int{5, 50, 50, 50, 50, 10, 5, 2, 2, 2, 2}

func (g *generator) row(r *row) error {
	if err := g.person(r, 0); err != nil {
		return err
	}
	r.desil = pickWeighted(g.r, desilWeights[:])
	r.yes = r.yes[:0]
	r.remarks = r.remarks[:0]
	for i, p := range g.opts.Programs {
		c, ok := chance[p.Code]
		if !ok {
			c = otherChance
		}
		yes := g.r.IntN(1000) < c[r.desil]
		r.yes = append(r.yes, yes)
		remark := ""
		if yes {
			remark = pick(g.r, g.remarks[i])
		}
		r.remarks = append(r.remarks, remark)
	}
	return nil
}

// person picks a province, a district, a sex, a birth date, a name and a
// NIK not generated before. serial 0 picks a serial below 9000.
func (g *generator) person(r *row, serial int) error {
	r.g = g
	ds := districts()
	prov := ds.provinces[pickWeighted(g.r, ds.weights)]
	code := pick(g.r, ds.byProvince[prov])
	female := g.r.IntN(2) == 0
	c := cultures[pickCulture(g.r, prov)]
	r.name = c.name(g.r, female)
	for tries := 0; ; tries++ {
		birth := g.birthDate()
		s := serial
		if s == 0 {
			s = 1 + g.r.IntN(8999)
		}
		nik, err := bansosbot.MakeNIK(code, birth, female, s)
		if err != nil {
			return fmt.Errorf("synthetic: NIK for %s: %w", code, err)
		}
		if serial != 0 || g.seen.add(nik.Digits()) {
			r.nik = nik
			return nil
		}
		if tries > 1000 {
			return fmt.Errorf("synthetic: no free NIK in %s", code)
		}
	}
}

// birthDate: ages 0-90 at AsOf, fewer of the old.
func (g *generator) birthDate() time.Time {
	age := g.r.IntN(65)
	if g.r.IntN(4) == 0 {
		age = 55 + g.r.IntN(36)
	}
	d := g.opts.AsOf.AddDate(-age, 0, -g.r.IntN(365))
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

func pickCulture(r *rand.Rand, prov string) string {
	ws, ok := provinceCultures[prov]
	if !ok {
		ws = papuaCultures
	}
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.name
		}
		n -= w.weight
	}
	return ws[0].name
}

func pickWeighted(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// interesting picks samples that show different answers: someone
// receiving several programs (all paid), one receiving none, one without a
// decile, one whose payment has not arrived yet (the status check's "not
// received yet" button).
func (g *generator) interesting(r *row, have []Sample) bool {
	n := len(r.receives())
	switch len(have) {
	case 0:
		return n >= 2 && len(r.unpaid()) == 0
	case 1:
		return n == 0 && r.desil > 0
	case 2:
		return r.desil == 0
	case 3:
		return len(r.unpaid()) > 0
	}
	return true
}

// format writes a CSV line as is: no generated text holds a comma, a quote
// or a newline (TestTextsNeedNoQuoting).
func (g *generator) format(b []byte, r *row) []byte {
	b = append(b, r.nik.Digits()...)
	b = append(b, ',')
	b = append(b, r.name...)
	b = append(b, ',')
	if r.desil > 0 {
		b = strconv.AppendInt(b, int64(r.desil), 10)
	}
	for i := range g.opts.Programs {
		if r.yes[i] {
			b = append(b, ",Y,"...)
			b = append(b, g.period[i]...)
		} else {
			b = append(b, ",N,"...)
		}
		b = append(b, ',')
		b = append(b, r.remarks[i]...)
	}
	return append(b, '\n')
}

type districtList struct {
	provinces  []string
	weights    []int
	byProvince map[string][]string // undotted 6-digit codes
}

// districts lists the kecamatan of every province from the embedded
// region list, with the provinces weighted by population.
var districts = sync.OnceValue(func() *districtList {
	rs := bansosbot.DefaultRegions()
	dl := &districtList{byProvince: map[string][]string{}}
	for _, p := range rs.Children("") {
		var codes []string
		for _, reg := range rs.Children(p.Code) {
			for _, d := range rs.Children(reg.Code) {
				if u := d.Code.Undotted(); bansosbot.KnownNIKDistrict(u) {
					codes = append(codes, u)
				}
			}
		}
		if len(codes) == 0 {
			continue
		}
		prov := string(p.Code)
		dl.provinces = append(dl.provinces, prov)
		dl.weights = append(dl.weights, max(1, provincePopulation[prov]))
		dl.byProvince[prov] = codes
	}
	slices.Sort(dl.provinces) // Children is sorted already; keep it explicit
	return dl
})

// bloom remembers generated NIKs in about 10 bits each; a false positive
// only makes the generator draw another serial, so NIKs stay unique.
type bloom struct {
	bits []uint64
	m    uint64
}

func newBloom(n int) *bloom {
	m := uint64(max(n, 1024)) * 10
	return &bloom{bits: make([]uint64, (m+63)/64), m: m}
}

// add reports whether s was new (and records it).
func (b *bloom) add(s string) bool {
	h1 := fnv64(s)
	h2 := (h1>>33|h1<<31)*0x9e3779b97f4a7c15 | 1
	isNew := false
	for i := range uint64(7) {
		k := (h1 + i*h2) % b.m
		if b.bits[k/64]&(1<<(k%64)) == 0 {
			isNew = true
			b.bits[k/64] |= 1 << (k % 64)
		}
	}
	return isNew
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
