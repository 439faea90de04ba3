package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bansosbot/bansosbot"
)

const regionUsage = `Usage: bansosbot region find NAME

Prints the regions whose name matches NAME (best first) with their
Kemendagri codes, for --region of staff, report and tickets export:
  bansosbot region find "kab bogor"
  bansosbot region find cibinong`

var levelNames = [...]string{1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "desa/kelurahan"}

// runRegion is "bansosbot region find NAME" (no data needed).
func runRegion(args []string, stdout io.Writer) error {
	if len(args) < 2 || args[0] != "find" {
		return errors.New(regionUsage)
	}
	query := strings.Join(args[1:], " ")
	rs := bansosbot.DefaultRegions()
	found := rs.Search(query, 0, "", 30)
	if len(found) == 0 {
		return fmt.Errorf("region find: nothing matches %q", query)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tLEVEL\tNAME")
	for _, r := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Code, levelNames[r.Level], rs.DisplayName(r.Code))
	}
	return tw.Flush()
}
