package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// entityTypeOfTag maps the HTML tags Telegram accepts in parse_mode HTML to
// the entity they produce.
var entityTypeOfTag = map[string]models.MessageEntityType{
	"b":          models.MessageEntityTypeBold,
	"strong":     models.MessageEntityTypeBold,
	"i":          models.MessageEntityTypeItalic,
	"em":         models.MessageEntityTypeItalic,
	"u":          models.MessageEntityTypeUnderline,
	"ins":        models.MessageEntityTypeUnderline,
	"s":          models.MessageEntityTypeStrikethrough,
	"strike":     models.MessageEntityTypeStrikethrough,
	"del":        models.MessageEntityTypeStrikethrough,
	"a":          models.MessageEntityTypeTextLink,
	"code":       models.MessageEntityTypeCode,
	"pre":        models.MessageEntityTypePre,
	"tg-spoiler": models.MessageEntityTypeSpoiler,
	"span":       models.MessageEntityTypeSpoiler,
	"blockquote": models.MessageEntityTypeBlockquote,
	"tg-emoji":   models.MessageEntityTypeCustomEmoji,
}

// htmlError is a parse failure; its text follows "Bad Request: can't parse
// entities: ".
type htmlError struct{ msg string }

func (e *htmlError) Error() string { return e.msg }

func htmlErrorf(format string, args ...any) *htmlError {
	return &htmlError{msg: fmt.Sprintf(format, args...)}
}

type openTag struct {
	name   string
	offset int // UTF-16 offset in the plain text
	attrs  map[string]string
}

// parseHTML validates text in Telegram's HTML parse mode and returns the
// plain text (tags removed, character references resolved) and its entities
// with UTF-16 offsets, as Telegram would put them in the Message.
func parseHTML(text string) (string, []models.MessageEntity, error) {
	var (
		plain    strings.Builder
		u16      int // UTF-16 length of plain so far
		stack    []openTag
		entities []models.MessageEntity
	)
	writeRune := func(r rune) {
		plain.WriteRune(r)
		u16 += utf16.RuneLen(r)
	}
	i := 0
	for i < len(text) {
		c := text[i]
		switch c {
		case '<':
			start := i
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				return "", nil, htmlErrorf("Unclosed start tag at byte offset %d", start)
			}
			inner := text[i+1 : i+end]
			i += end + 1
			if strings.HasPrefix(inner, "/") {
				name := strings.ToLower(strings.TrimSpace(inner[1:]))
				if len(stack) == 0 {
					return "", nil, htmlErrorf("Unexpected end tag at byte offset %d", start)
				}
				top := stack[len(stack)-1]
				if name != top.name {
					return "", nil, htmlErrorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", start, top.name, name)
				}
				stack = stack[:len(stack)-1]
				if e, ok := entityFor(top, u16, stack); ok {
					entities = mergeEntity(entities, e)
				}
				continue
			}
			name, attrs, err := parseTag(inner, start)
			if err != nil {
				return "", nil, err
			}
			if _, ok := entityTypeOfTag[name]; !ok {
				return "", nil, htmlErrorf("Unsupported start tag \"%s\" at byte offset %d", name, start)
			}
			switch name {
			case "span":
				if attrs["class"] != "tg-spoiler" {
					return "", nil, htmlErrorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", start)
				}
			case "tg-emoji":
				if attrs["emoji-id"] == "" {
					return "", nil, htmlErrorf("Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset %d", start)
				}
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1].name
				if (parent == "code" || parent == "pre") && !(parent == "pre" && name == "code") {
					return "", nil, htmlErrorf("Can't use tag \"%s\" inside \"%s\" at byte offset %d", name, parent, start)
				}
			}
			stack = append(stack, openTag{name: name, offset: u16, attrs: attrs})
		case '&':
			semi := strings.IndexByte(text[i:], ';')
			if semi < 0 {
				return "", nil, htmlErrorf("Character '&' must be escaped as \"&amp;\" at byte offset %d", i)
			}
			r, ok := decodeCharRef(text[i+1 : i+semi])
			if !ok {
				return "", nil, htmlErrorf("Unsupported HTML entity \"%s\" at byte offset %d", text[i:i+semi+1], i)
			}
			writeRune(r)
			i += semi + 1
		default:
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 {
				return "", nil, htmlErrorf("Strings must be encoded in UTF-8")
			}
			writeRune(r)
			i += size
		}
	}
	if len(stack) > 0 {
		return "", nil, htmlErrorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	sort.SliceStable(entities, func(a, b int) bool {
		if entities[a].Offset != entities[b].Offset {
			return entities[a].Offset < entities[b].Offset
		}
		return entities[a].Length > entities[b].Length
	})
	return plain.String(), entities, nil
}

// parseTag parses the inside of a start tag: a name and attributes.
func parseTag(inner string, start int) (string, map[string]string, error) {
	j := 0
	for j < len(inner) && isNameByte(inner[j]) {
		j++
	}
	if j == 0 {
		return "", nil, htmlErrorf("Unexpected start tag at byte offset %d: \"<\" must be escaped as \"&lt;\"", start)
	}
	name := strings.ToLower(inner[:j])
	attrs := map[string]string{}
	rest := inner[j:]
	for {
		rest = strings.TrimLeft(rest, " \t\r\n")
		if rest == "" || rest == "/" {
			break
		}
		k := 0
		for k < len(rest) && isNameByte(rest[k]) {
			k++
		}
		if k == 0 {
			return "", nil, htmlErrorf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", name, start)
		}
		attr := strings.ToLower(rest[:k])
		rest = strings.TrimLeft(rest[k:], " \t\r\n")
		if !strings.HasPrefix(rest, "=") {
			attrs[attr] = ""
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		var val string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			q := rest[0]
			e := strings.IndexByte(rest[1:], q)
			if e < 0 {
				return "", nil, htmlErrorf("Unclosed end of attribute value of the tag \"%s\" at byte offset %d", name, start)
			}
			val, rest = rest[1:1+e], rest[2+e:]
		} else {
			e := strings.IndexAny(rest, " \t\r\n")
			if e < 0 {
				e = len(rest)
			}
			val, rest = rest[:e], rest[e:]
		}
		if strings.Contains(val, "&") {
			decoded, err := unescapeAttr(val)
			if err != nil {
				return "", nil, htmlErrorf("%s in an attribute of the tag \"%s\" at byte offset %d", err.Error(), name, start)
			}
			val = decoded
		}
		attrs[attr] = val
	}
	return name, attrs, nil
}

func unescapeAttr(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '&' {
			b.WriteByte(s[i])
			i++
			continue
		}
		semi := strings.IndexByte(s[i:], ';')
		if semi < 0 {
			return "", fmt.Errorf("unescaped '&'")
		}
		r, ok := decodeCharRef(s[i+1 : i+semi])
		if !ok {
			return "", fmt.Errorf("unsupported HTML entity")
		}
		b.WriteRune(r)
		i += semi + 1
	}
	return b.String(), nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// decodeCharRef resolves the named references Telegram supports and numeric
// references (without the surrounding '&' and ';').
func decodeCharRef(ref string) (rune, bool) {
	switch ref {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	}
	if strings.HasPrefix(ref, "#") {
		var n uint64
		var err error
		if strings.HasPrefix(ref, "#x") || strings.HasPrefix(ref, "#X") {
			n, err = strconv.ParseUint(ref[2:], 16, 32)
		} else {
			n, err = strconv.ParseUint(ref[1:], 10, 32)
		}
		if err != nil || n == 0 || n > utf8.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
			return 0, false
		}
		return rune(n), true
	}
	return 0, false
}

// entityFor builds the entity for a closed tag ending at UTF-16 offset end.
func entityFor(t openTag, end int, parents []openTag) (models.MessageEntity, bool) {
	if end <= t.offset {
		return models.MessageEntity{}, false
	}
	e := models.MessageEntity{Type: entityTypeOfTag[t.name], Offset: t.offset, Length: end - t.offset}
	switch t.name {
	case "a":
		href := t.attrs["href"]
		if href == "" {
			return models.MessageEntity{}, false
		}
		e.URL = href
	case "code":
		if len(parents) > 0 && parents[len(parents)-1].name == "pre" {
			// <pre><code class="language-x"> sets the language of the pre.
			e.Type = models.MessageEntityTypePre
			e.Language = strings.TrimPrefix(t.attrs["class"], "language-")
		}
	case "blockquote":
		if _, ok := t.attrs["expandable"]; ok {
			e.Type = models.MessageEntityTypeExpandableBlockquote
		}
	case "tg-emoji":
		e.CustomEmojiID = t.attrs["emoji-id"]
	}
	return e, true
}

// mergeEntity adds e, folding a <pre><code class="language-x"> pair into a
// single pre entity with a language.
func mergeEntity(list []models.MessageEntity, e models.MessageEntity) []models.MessageEntity {
	if e.Type == models.MessageEntityTypePre {
		for i, o := range list {
			if o.Type == models.MessageEntityTypePre && o.Offset == e.Offset && o.Length == e.Length {
				if e.Language != "" {
					list[i].Language = e.Language
				}
				return list
			}
		}
	}
	return append(list, e)
}

// textLength is the length Telegram limits: Unicode characters of the text
// after entity parsing.
func textLength(s string) int { return utf8.RuneCountInString(s) }

// utf16Len is the length of s in UTF-16 code units (entity offsets).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
