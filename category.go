package bansosbot

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Category is a kind of complaint (a service code in Open311 terms).
type Category struct {
	Code string `json:"code"`
	// Names per language; operators may rename categories without a release.
	Names map[string]string `json:"names"`
	// HideReporter: the reporter's identity is hidden from whoever handles
	// the ticket, and workers of the same kecamatan never see it (PUNGLI,
	// OFFICER_MISCONDUCT).
	HideReporter bool `json:"hide_reporter,omitempty"`
	// SupervisorsOnly: routed to supervisors only, never to workers.
	SupervisorsOnly bool `json:"supervisors_only,omitempty"`
	// Fields are extra fields the reporting conversation asks for.
	Fields []string `json:"fields,omitempty"`
	// Policy names the service-level policy; "" means "default".
	Policy string `json:"policy,omitempty"`
	// Prompt names the category's own questions and explanations (one of
	// Prompts): the description question, and what happens after filing.
	// "" means the general ones.
	Prompt string `json:"prompt,omitempty"`
}

// Prompts are the known values of Category.Prompt: each has its texts in
// the locale catalogs (usul: proposing a household for aid; sanggah: an
// objection to a recipient; pbi: BPJS PBI health cover that became
// inactive).
var Prompts = []string{"usul", "sanggah", "pbi"}

// Extra fields a category may ask for.
const (
	FieldVillage   = "village"   // desa/kelurahan
	FieldReason    = "reason"    // why the reported person is not eligible (sanggah)
	FieldProposed  = "proposed"  // whom an usul is for: the reporter's own household or another family
	FieldHousehold = "household" // the proposed household: number of members and their work (usul)
	FieldTarget    = "target"    // who is objected to: the recipient's name and address (sanggah)
	FieldProgram   = "program"   // which aid program it is about (a code of config/programs.json, or "unknown")
	FieldEvidence  = "evidence"  // a photo (of the house) is required, a location asked for (sanggah)
	FieldAnswers   = "answers"   // ready answers are offered before filing (INFO_REQUEST)
)

// Fields lists every extra field a category may ask for.
var Fields = []string{FieldVillage, FieldReason, FieldProposed, FieldHousehold, FieldTarget, FieldProgram, FieldEvidence, FieldAnswers}

// Name returns the category's name in lang, falling back to Indonesian and
// then to the code.
func (c Category) Name(lang string) string {
	if n := c.Names[lang]; n != "" {
		return n
	}
	if n := c.Names[Languages[0]]; n != "" {
		return n
	}
	return c.Code
}

// Asks reports whether the category asks for the extra field.
func (c Category) Asks(field string) bool { return slices.Contains(c.Fields, field) }

// Categories is the ordered list of complaint categories.
type Categories []Category

// Get returns the category with the code.
func (cs Categories) Get(code string) (Category, bool) {
	for _, c := range cs {
		if c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

//go:embed config/categories.json
var defaultCategories []byte

// DefaultCategories returns the categories of the national complaint
// practice and the PBI-JK reactivation desk case (config/categories.json).
func DefaultCategories() Categories {
	cs, err := LoadCategories(bytes.NewReader(defaultCategories))
	if err != nil {
		panic("bansosbot: embedded categories are invalid: " + err.Error())
	}
	return cs
}

// LoadCategories reads and validates a categories file (JSON array; see
// config/categories.json for the format).
func LoadCategories(r io.Reader) (Categories, error) {
	var cs Categories
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cs); err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("categories: the list is empty")
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if c.Code == "" {
			return nil, fmt.Errorf("categories: entry %d has no code", i+1)
		}
		if seen[c.Code] {
			return nil, fmt.Errorf("categories: code %s appears twice", c.Code)
		}
		seen[c.Code] = true
		for _, l := range Languages {
			if c.Names[l] == "" {
				return nil, fmt.Errorf("categories: %s has no name in %q", c.Code, l)
			}
		}
		for _, f := range c.Fields {
			if !slices.Contains(Fields, f) {
				return nil, fmt.Errorf("categories: %s asks for unknown field %q (known: %s)", c.Code, f, strings.Join(Fields, ", "))
			}
		}
		if c.Prompt != "" && !slices.Contains(Prompts, c.Prompt) {
			return nil, fmt.Errorf("categories: %s has unknown prompt %q (known: %s)", c.Code, c.Prompt, strings.Join(Prompts, ", "))
		}
	}
	return cs, nil
}
