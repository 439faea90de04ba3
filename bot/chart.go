package bot

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"strconv"

	"github.com/bansosbot/bansosbot/flows"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Charts are drawn with gonum.org/v1/plot as PNG pictures of ChartWidth
// × ChartHeight pixels (16:9, sharp on phones, about 30-60 KB).
const (
	ChartWidth  = 960
	ChartHeight = 540
	chartDPI    = 96
)

// seriesColors are distinguishable for the common colour-vision
// deficiencies (Okabe-Ito): received, resolved, overdue.
var seriesColors = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0x00, 0x9E, 0x73, 0xff}, // green
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0xCC, 0x79, 0xA7, 0xff},
	{0xE6, 0x9F, 0x00, 0xff},
}

// DrawChart draws c as a PNG line chart with the series' names in lang:
// one line with points per series over the labels. It fits
// Renderer.Chart (title is the rendered title; HTML is stripped).
func (r *Renderer) DrawChart(lang, title string, c *flows.Chart) ([]byte, error) {
	p := plot.New()
	p.Title.Text = html2plain(title)
	p.Title.Padding = vg.Points(10)
	p.Title.TextStyle.Font.Size = vg.Points(15)
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		st.Font.Variant = "Sans"
	}
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(10), vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Y.Min = 0
	p.Y.Tick.Marker = countTicks{}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	ymax := 1.0
	for i, s := range c.Series {
		xys := make(plotter.XYs, len(s.Values))
		for j, v := range s.Values {
			xys[j] = plotter.XY{X: float64(j), Y: v}
			ymax = max(ymax, v)
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("chart series %d: %w", i, err)
		}
		col := seriesColors[i%len(seriesColors)]
		line.Color, line.Width = col, vg.Points(2)
		points.Color, points.Shape = col, draw.CircleGlyph{}
		points.Radius = vg.Points(3)
		p.Add(line, points)
		p.Legend.Add(html2plain(r.Msg(lang, s.Name)), line, points)
	}
	// Room above the highest point for the legend.
	p.Y.Max = math.Ceil(ymax*1.4) + 1
	p.NominalX(c.Labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(c.Labels))-0.5
	canvas := vgimg.NewWith(
		vgimg.UseWH(vg.Length(ChartWidth)*vg.Inch/chartDPI, vg.Length(ChartHeight)*vg.Inch/chartDPI),
		vgimg.UseDPI(chartDPI),
		vgimg.UseBackgroundColor(color.White),
	)
	p.Draw(draw.New(canvas))
	// Fast compression: the picture is drawn inside the update's
	// transaction (the renderer runs there), and best compression would
	// double the time for a third less size.
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, canvas.Image()); err != nil {
		return nil, fmt.Errorf("chart: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// countTicks marks whole numbers only (counts of tickets), about five.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	step := math.Max(1, math.Ceil((max-min)/5))
	var out []plot.Tick
	for v := math.Ceil(min); v <= max; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return out
}
