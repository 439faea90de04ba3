package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"

	"github.com/bansosbot/bansosbot/flows"
)

// chart is a 12-week trend drawn as inline SVG by the overview template:
// bars of received and resolved tickets per week and a line of the
// tickets overdue at each week's end.
type chart struct {
	W, H                     int
	Bars                     []bar
	Line                     string // polyline points
	Max                      int
	Received, Resolved, Over string // legend
	Dots                     []dot
}

type bar struct {
	X, Y, W, H int
	Class      string
	Title      string
	Label      string
	LX         int
}

type dot struct{ X, Y int }

func trendChart(weeks []flows.Figures, labels []string, received, resolved, overdue string) chart {
	const w, h, top, bottom, left = 640, 220, 10, 30, 36
	c := chart{W: w, H: h, Received: received, Resolved: resolved, Over: overdue}
	for _, f := range weeks {
		c.Max = max(c.Max, f.Received, f.Resolved, f.Overdue)
	}
	scale := func(n int) int {
		if c.Max == 0 {
			return 0
		}
		return n * (h - top - bottom) / c.Max
	}
	slot := (w - left) / max(len(weeks), 1)
	var pts []string
	for i, f := range weeks {
		x := left + i*slot
		bw := slot/2 - 3
		hr, hs := scale(f.Received), scale(f.Resolved)
		c.Bars = append(c.Bars,
			bar{X: x + 2, Y: h - bottom - hr, W: bw, H: hr, Class: "b-received", Title: fmt.Sprintf("%s %s: %d", labels[i], received, f.Received), Label: labels[i], LX: x + slot/2},
			bar{X: x + 2 + bw + 2, Y: h - bottom - hs, W: bw, H: hs, Class: "b-resolved", Title: fmt.Sprintf("%s %s: %d", labels[i], resolved, f.Resolved)})
		y := h - bottom - scale(f.Overdue)
		pts = append(pts, fmt.Sprintf("%d,%d", x+slot/2, y))
		c.Dots = append(c.Dots, dot{x + slot/2, y})
	}
	c.Line = strings.Join(pts, " ")
	return c
}

// writeCSV sends a table as a CSV download. Cells that a spreadsheet
// would run as a formula (=, +, -, @, tab, carriage return first) get a
// leading apostrophe, as in the exports.
func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	cw := csv.NewWriter(w)
	cw.Write(header)
	for _, r := range rows {
		out := make([]string, len(r))
		for i, c := range r {
			out[i] = defuse(c)
		}
		cw.Write(out)
	}
	cw.Flush()
}

func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
