package flows

import (
	"encoding/csv"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
)

// The region steps list the children of a region as paged buttons
// (Telegram shows long keyboards badly on small phones: a page has at most
// regionRows rows of regions plus the page and Back/Cancel rows) and
// accept a typed name at any time, searched nationwide (villages: within
// the chosen kecamatan).
const (
	regionCols   = 2   // region buttons per row when browsing
	regionRows   = 6   // rows of region buttons per page
	searchLimit  = 24  // search results offered at most
	minQueryLen  = 3   // characters a typed region name needs
	maxQueryLen  = 100 // longer text is not a region name
	echoQueryLen = 60  // characters of a failed query repeated to the user
)

// regionItems is what the current region step lists, and whether it is a
// search result (one per row, named with their ancestors).
func (f report) regionItems(c *Conv, d *reportDraft) ([]bansosbot.Region, bool) {
	if d.Query != "" {
		return f.searchRegions(c, d, d.Query), true
	}
	return f.cat.regions.Children(d.Browse), false
}

func (f report) promptRegion(c *Conv, d *reportDraft) error {
	rs := f.cat.regions
	items, search := f.regionItems(c, d)
	var head Msg
	switch {
	case search:
		head = T("complaint.search_results", "Query", d.Query, "Count", len(items))
	case c.Session.State == rsProvince:
		head = provinceQuestion(d) // where the citizen, or the household concerned, lives
	case c.Session.State == rsRegency:
		head = T("complaint.ask_regency", "Province", rs.DisplayName(d.Browse))
	case c.Session.State == rsDistrict:
		head = T("complaint.ask_district", "Regency", rs.DisplayName(d.Browse))
	default:
		head = T("complaint.ask_village", "District", rs.DisplayName(d.Browse))
	}
	cols := regionCols
	if search {
		cols = 1
	}
	per := cols * regionRows
	pages := max(1, (len(items)+per-1)/per)
	page := min(max(d.Page, 0), pages-1)
	text := []Msg{head}
	var rows [][]Choice
	if c.Session.State == rsProvince && d.Suggest != "" && d.Region == "" && !search {
		// The NIK's district, offered as a one-tap answer to confirm.
		ask, button := suggestion(d) // the citizen's own residence, or the proposed family's
		text = append(text, T(ask, "Name", rs.DisplayName(d.Suggest)))
		rows = append(rows, []Choice{{T(button, "Name", suggestName(rs, d.Suggest)), "r:" + string(d.Suggest)}})
	}
	if pages > 1 {
		text = append(text, T("complaint.page", "Page", page+1, "Pages", pages))
	}
	if c.Session.State == rsVillage {
		text = append(text, T("complaint.village_search_hint"))
	} else {
		text = append(text, T("complaint.region_search_hint"))
	}
	var row []Choice
	for _, r := range items[page*per : min(len(items), (page+1)*per)] {
		name := r.Name
		if search && r.Level < 4 {
			name = rs.DisplayName(r.Code)
		}
		row = append(row, Choice{T("complaint.region_button", "Name", name), "r:" + string(r.Code)})
		if len(row) == cols {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if nav := pageNav("p:", page, pages); nav != nil {
		rows = append(rows, nav)
	}
	c.Ask(text, append(rows, navRow()))
	return nil
}

func (f report) handleRegion(c *Conv, d *reportDraft) error {
	in := c.In
	if in.Callback != nil {
		verb, arg, _ := strings.Cut(c.Payload, ":")
		switch verb {
		case "p":
			if page, err := strconv.Atoi(arg); err == nil && page >= 0 {
				d.Page = page
				if err := c.SaveDraft(d); err != nil {
					return err
				}
				c.AnswerCallback(Msg{}, false)
				return f.prompt(c, d)
			}
		case "r":
			return f.pickRegion(c, d, bansosbot.RegionCode(arg))
		}
		f.explain(c)
		return f.prompt(c, d)
	}
	q := strings.TrimSpace(in.Text)
	if in.Photo != nil || in.Media != "" || in.Location != nil || in.Contact != nil || q == "" {
		f.explain(c)
		return f.prompt(c, d)
	}
	n := utf8.RuneCountInString(q)
	if n < minQueryLen {
		c.Say(T("complaint.search_too_short", "Min", minQueryLen))
		return f.prompt(c, d)
	}
	var hits []bansosbot.Region
	if n <= maxQueryLen {
		hits = f.searchRegions(c, d, q)
	}
	switch len(hits) {
	case 0:
		c.Say(T("complaint.region_not_found", "Query", clip(q, echoQueryLen)))
		return f.prompt(c, d)
	case 1:
		return f.pickRegion(c, d, hits[0].Code)
	}
	d.Query, d.Page = q, 0
	if err := c.SaveDraft(d); err != nil {
		return err
	}
	return f.prompt(c, d)
}

// suggestName is the short name of a suggested region on its button: the
// kecamatan and its kabupaten/kota ("Cibinong, Kabupaten Bogor").
func suggestName(rs *bansosbot.Regions, code bansosbot.RegionCode) string {
	path := rs.Path(code)
	if n := len(path); n == 3 {
		return path[2].Name + ", " + path[1].Name
	}
	if r, ok := rs.Get(code); ok {
		return r.Name
	}
	return string(code)
}

// searchRegions finds regions by a typed name: provinces, then
// kabupaten/kota, then kecamatan (best matches first within each level),
// or the villages of the chosen kecamatan at the village step. A typed
// region code ("32.01.01") works too.
func (f report) searchRegions(c *Conv, d *reportDraft, q string) []bansosbot.Region {
	rs := f.cat.regions
	if c.Session.State == rsVillage {
		return rs.Search(q, 4, d.Region, searchLimit)
	}
	if code, err := bansosbot.ParseRegionCode(q); err == nil {
		if r, ok := rs.Get(code); ok && r.Level <= 3 {
			return []bansosbot.Region{r}
		}
		return nil
	}
	return regionsAbove(rs).Search(q, 0, "", searchLimit)
}

// upperRegions caches regionsAbove per region list.
var upperRegions sync.Map // *bansosbot.Regions → *bansosbot.Regions

// regionsAbove is an index of the provinces, kabupaten/kota and kecamatan
// of rs, without the 83,000 villages: the region steps search it, a
// tenth of the work inside the write transaction, and ranked across the
// three levels at once (an exact kecamatan before a partial province).
func regionsAbove(rs *bansosbot.Regions) *bansosbot.Regions {
	if v, ok := upperRegions.Load(rs); ok {
		return v.(*bansosbot.Regions)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"code", "name", "level"})
	var walk func(code bansosbot.RegionCode)
	walk = func(code bansosbot.RegionCode) {
		for _, r := range rs.Children(code) {
			w.Write([]string{string(r.Code), r.Name, strconv.Itoa(r.Level)})
			if r.Level < 3 {
				walk(r.Code)
			}
		}
	}
	walk("")
	w.Flush()
	up, err := bansosbot.LoadRegions(strings.NewReader(b.String()), nil)
	if err != nil { // codes and names come from a valid list: cannot happen
		panic("flows: region index: " + err.Error())
	}
	v, _ := upperRegions.LoadOrStore(rs, up)
	return v.(*bansosbot.Regions)
}

// pickRegion takes a region from a button or a single search hit: a
// province or kabupaten/kota opens its children, a kecamatan completes the
// region, a village (at the village step) completes the village.
func (f report) pickRegion(c *Conv, d *reportDraft, code bansosbot.RegionCode) error {
	rs := f.cat.regions
	r, ok := rs.Get(code)
	if c.Session.State == rsVillage {
		if !ok || r.Level != 4 || !d.Region.Covers(code) {
			f.explain(c)
			return f.prompt(c, d)
		}
		d.Village = code
		if c.In.Callback == nil { // chosen by a typed name: say which one
			c.Say(T("complaint.region_chosen", "Name", r.Name))
		}
		return f.advance(c, d)
	}
	if !ok || r.Level > 3 {
		f.explain(c)
		return f.prompt(c, d)
	}
	d.Browse = code
	switch r.Level {
	case 1:
		return f.goTo(c, d, rsRegency)
	case 2:
		return f.goTo(c, d, rsDistrict)
	}
	if d.Region != code {
		d.Region, d.DupOK = code, false
		if !code.Covers(d.Village) {
			d.Village = ""
		}
	}
	c.Say(T("complaint.region_chosen", "Name", rs.DisplayName(code)))
	return f.advance(c, d)
}
