package synthetic

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
)

func generate(t *testing.T, n int, seed int64) ([]byte, []Sample) {
	t.Helper()
	var b bytes.Buffer
	s, err := Registry(&b, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), s
}

func TestDeterministic(t *testing.T) {
	a, sa := generate(t, 2000, 42)
	b, sb := generate(t, 2000, 42)
	c, _ := generate(t, 2000, 43)
	if !bytes.Equal(a, b) || len(sa) != len(sb) || sa[0].NIK != sb[0].NIK {
		t.Error("the same seed gave different files")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same file")
	}
}

// TestValidRegistry reads a generated file with the import's own parser:
// every row is valid, NIKs are unique, both sexes and many provinces
// appear, and the programs follow the decile.
func TestValidRegistry(t *testing.T) {
	const n = 20000
	raw, _ := generate(t, n, 1)
	r := csv.NewReader(bytes.NewReader(raw))
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	cols, err := bansosbot.ParseRegistryHeader(header, bansosbot.DefaultPrograms())
	if err != nil {
		t.Fatal(err)
	}
	h := bansosbot.NewHasher([]byte("k"))
	seen := map[string]bool{}
	provinces := map[bansosbot.RegionCode]int{}
	women, multiWord := 0, 0
	var pkh, rows [11]int // by decile
	for line := 2; ; line++ {
		f, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var rec bansosbot.Record
		if err := cols.Record(f, h, &rec); err != nil {
			t.Fatalf("line %d %q: %v", line, f, err)
		}
		if seen[f[0]] {
			t.Fatalf("line %d: NIK repeated", line)
		}
		seen[f[0]] = true
		provinces[rec.Province]++
		if bansosbot.NIK(f[0]).Female() {
			women++
		}
		if strings.Contains(f[1], " ") {
			multiWord++
		}
		rows[rec.Desil]++
		if rec.Programs[0].Receives {
			pkh[rec.Desil]++
		}
	}
	if len(seen) != n {
		t.Fatalf("%d rows; want %d", len(seen), n)
	}
	if women < n*4/10 || women > n*6/10 {
		t.Errorf("%d women of %d", women, n)
	}
	if multiWord < n/2 {
		t.Errorf("only %d names of several words", multiWord)
	}
	if len(provinces) < 30 || provinces["32"] < provinces["11"] {
		t.Errorf("provinces = %v; want most of the 38, Jawa Barat more than Aceh", provinces)
	}
	low := float64(pkh[1]+pkh[2]) / float64(rows[1]+rows[2])
	high := float64(pkh[8]+pkh[9]+pkh[10]) / float64(rows[8]+rows[9]+rows[10])
	if low < 0.3 || high > 0.05 {
		t.Errorf("PKH share: %.2f in deciles 1-2, %.3f in 8-10; want targeting", low, high)
	}
}

func TestSamples(t *testing.T) {
	raw, samples := generate(t, 3000, 9)
	lines := strings.Split(string(raw), "\n")
	var registered int
	for _, s := range samples {
		if _, err := bansosbot.ParseNIK(s.NIK.Digits()); err != nil {
			t.Errorf("sample NIK invalid: %v", err)
		}
		if !s.Registered {
			if bytes.Contains(raw, []byte(s.NIK.Digits())) {
				t.Errorf("the unregistered sample is in the file")
			}
			continue
		}
		registered++
		if want := s.NIK.Digits() + "," + s.Name + ","; !strings.HasPrefix(lines[s.Line-1], want) {
			t.Errorf("line %d = %q; want it to start with the sample %q", s.Line, lines[s.Line-1], want)
		}
	}
	if registered != 4 || samples[len(samples)-1].Registered {
		t.Errorf("samples = %+v; want 4 registered, then one that is not", samples)
	}
	if len(samples[0].Receives) < 2 || len(samples[0].Unpaid) != 0 || len(samples[1].Receives) != 0 || samples[2].Desil != 0 || len(samples[3].Unpaid) == 0 {
		t.Errorf("samples do not show the different answers: %+v", samples)
	}
}

// TestTextsNeedNoQuoting: the generator writes CSV lines as they are.
func TestTextsNeedNoQuoting(t *testing.T) {
	var texts []string
	for _, c := range cultures {
		for _, l := range [][]string{c.male, c.female, c.family, c.familyF, c.prefixM, c.prefixF} {
			texts = append(texts, l...)
		}
	}
	g := &generator{opts: Options{Programs: bansosbot.DefaultPrograms()}}
	g.opts.AsOf = g.opts.AsOf.AddDate(2026, 0, 0)
	g.texts()
	texts = append(texts, g.period...)
	for _, rs := range g.remarks {
		texts = append(texts, rs...)
	}
	for _, s := range texts {
		if strings.ContainsAny(s, ",\"\r\n") || s != strings.TrimSpace(s) || s == "" {
			t.Errorf("text %q needs quoting", s)
		}
	}
	for prov := range provinceCultures {
		for _, w := range provinceCultures[prov] {
			if cultures[w.name] == nil {
				t.Errorf("province %s: unknown culture %s", prov, w.name)
			}
		}
	}
}
