package web

import (
	"encoding/csv"
	"fmt"
	"math"
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

// provinceTiles places the 38 provinces on a grid cartogram, west to east
// and north to south: Sumatra, Java and Nusa Tenggara, Kalimantan,
// Sulawesi, Maluku, Papua. Each province is one tile of the same size.
var provinceTiles = map[string][2]int{
	"11": {0, 0}, "12": {1, 0}, "21": {2, 0}, "13": {1, 1}, "14": {2, 1}, "19": {3, 1},
	"15": {2, 2}, "16": {3, 2}, "17": {2, 3}, "18": {3, 3},
	"36": {4, 4}, "31": {5, 3}, "32": {5, 4}, "33": {6, 4}, "34": {6, 5}, "35": {7, 4},
	"51": {8, 4}, "52": {9, 4}, "53": {10, 4},
	"61": {5, 1}, "65": {7, 0}, "64": {7, 1}, "62": {6, 2}, "63": {7, 2},
	"75": {9, 0}, "71": {10, 0}, "76": {8, 1}, "72": {9, 1}, "73": {8, 2}, "74": {9, 2},
	"82": {11, 0}, "81": {11, 2},
	"96": {12, 1}, "92": {13, 1}, "91": {14, 0}, "94": {14, 1}, "95": {15, 1}, "93": {15, 2},
}

// placeTiles gives each row a tile: provinces on the cartogram, other
// regions (kabupaten/kota, kecamatan) in code order on a grid about
// twice as wide as high. It returns the grid's columns and rows.
func placeTiles(rows []regionRow) (cols, nrows int) {
	geo := len(rows) > 0
	for _, r := range rows {
		if _, ok := provinceTiles[string(r.Code)]; !ok {
			geo = false
		}
	}
	if geo {
		for i := range rows {
			p := provinceTiles[string(rows[i].Code)]
			rows[i].Col, rows[i].Row = p[0], p[1]
			cols, nrows = max(cols, p[0]+1), max(nrows, p[1]+1)
		}
		return cols, nrows
	}
	cols = max(1, int(math.Ceil(math.Sqrt(float64(len(rows))*1.8))))
	for i := range rows {
		rows[i].Col, rows[i].Row = i%cols, i/cols
		nrows = max(nrows, rows[i].Row+1)
	}
	return cols, nrows
}
