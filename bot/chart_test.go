package bot

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
)

func chartRenderer() *Renderer {
	r := NewRenderer(locales.MustDefault(), time.UTC)
	r.Chart = r.DrawChart
	return r
}

func testChart() *flows.Chart {
	ch := &flows.Chart{Title: flows.T("ops.chart.title", "Region", "Jawa Barat & <Banten>")}
	names := []string{"ops.chart.received", "ops.chart.resolved", "ops.chart.overdue"}
	for i, n := range names {
		s := flows.ChartSeries{Name: flows.T(n)}
		for w := 0; w < 12; w++ {
			s.Values = append(s.Values, float64((w*(i+2))%7))
		}
		ch.Series = append(ch.Series, s)
	}
	for w := 0; w < 12; w++ {
		ch.Labels = append(ch.Labels, time.Date(2026, 9, 7+7*w, 0, 0, 0, 0, time.UTC).Format("02/01"))
	}
	return ch
}

func TestDrawChartIsPNGOfTheSize(t *testing.T) {
	r := chartRenderer()
	for _, lang := range []string{"id", "en"} {
		raw, err := r.DrawChart(lang, r.Msg(lang, testChart().Title), testChart())
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", lang, err)
		}
		if b := img.Bounds(); b.Dx() != ChartWidth || b.Dy() != ChartHeight {
			t.Errorf("%s: %dx%d; want %dx%d", lang, b.Dx(), b.Dy(), ChartWidth, ChartHeight)
		}
		if len(raw) > 200<<10 {
			t.Errorf("%s: %d bytes; want a small picture", lang, len(raw))
		}
	}
	// An empty chart (a new region) still draws.
	empty := &flows.Chart{Title: flows.T("ops.chart.title", "Region", "X"), Labels: []string{"a", "b"},
		Series: []flows.ChartSeries{{Name: flows.T("ops.chart.received"), Values: []float64{0, 0}}}}
	if _, err := r.DrawChart("id", "X", empty); err != nil {
		t.Errorf("empty chart: %v", err)
	}
}

// TestSendChartBecomesPhotoUpload: a SendChart reply is rendered into a
// sendPhoto call carrying the PNG and the caption; without a drawer it
// falls back to the caption as text.
func TestSendChartBecomesPhotoUpload(t *testing.T) {
	rep := flows.Reply{Action: flows.SendChart, ChatID: 5, Lang: "en", Chart: testChart(),
		Text: []flows.Msg{flows.T("ops.chart.received")}}
	calls, err := chartRenderer().Render([]flows.Reply{rep})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].Method != mSendPhoto || calls[0].Text != "Received" || calls[0].ChatID != 5 {
		t.Fatalf("calls = %+v", calls)
	}
	if _, err := png.Decode(bytes.NewReader(calls[0].PNG)); err != nil {
		t.Errorf("the call's picture is not a PNG: %v", err)
	}
	calls, err = NewRenderer(locales.MustDefault(), time.UTC).Render([]flows.Reply{rep})
	if err != nil || len(calls) != 1 || calls[0].Method != mSendMessage || calls[0].Text != "Received" {
		t.Errorf("without a drawer: %+v, %v; want the caption as a message", calls, err)
	}
}

func BenchmarkDrawChart(b *testing.B) {
	r := chartRenderer()
	ch := testChart()
	for b.Loop() {
		if _, err := r.DrawChart("id", "Jawa Barat", ch); err != nil {
			b.Fatal(err)
		}
	}
}
