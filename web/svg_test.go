package web

import (
	"testing"

	"github.com/bansosbot/bansosbot"
)

// TestProvinceCartogram: every province has its own tile, and a national
// table is laid out on the cartogram (Aceh west, Papua Selatan east).
func TestProvinceCartogram(t *testing.T) {
	seen := map[[2]int]string{}
	provinces := bansosbot.DefaultRegions().Children("")
	for _, p := range provinces {
		pos, ok := provinceTiles[string(p.Code)]
		if !ok {
			t.Errorf("province %s (%s) has no tile", p.Code, p.Name)
			continue
		}
		if other, dup := seen[pos]; dup {
			t.Errorf("provinces %s and %s share the tile %v", other, p.Code, pos)
		}
		seen[pos] = string(p.Code)
	}
	if len(provinceTiles) != len(provinces) {
		t.Errorf("%d tiles for %d provinces", len(provinceTiles), len(provinces))
	}
	rows := []regionRow{{Code: "93"}, {Code: "11"}, {Code: "32"}}
	cols, n := placeTiles(rows)
	if rows[0].Col != 15 || rows[1].Col != 0 || rows[2].Row != 4 || cols != 16 || n != 5 {
		t.Errorf("cartogram: %+v, %d×%d", rows, cols, n)
	}
	// Kabupaten go on a plain grid in code order.
	rows = []regionRow{{Code: "32.01"}, {Code: "32.02"}, {Code: "32.03"}}
	if cols, n := placeTiles(rows); cols != 3 || n != 1 || rows[2].Col != 2 {
		t.Errorf("grid: %+v, %d×%d", rows, cols, n)
	}
}
