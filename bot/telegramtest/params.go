package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBodySize bounds request bodies; Telegram allows 50 MB uploads.
const maxBodySize = 50 << 20

// upload is a file sent in a multipart request.
type upload struct {
	Filename    string
	ContentType string
	Data        []byte
}

// params is the decoded request of a Bot API call. Whatever the encoding of
// the request (query string, multipart/form-data, JSON or urlencoded form),
// every value is kept as JSON: form values become JSON strings, so the
// accessors accept both `5` and `"5"`, and both an object and a string
// holding a JSON object.
type params struct {
	values map[string]json.RawMessage
	files  map[string]*upload
}

// decodeRequest reads the whole body of r (reading it to the end also lets the
// HTTP server notice when the client goes away) and decodes its parameters.
func decodeRequest(r *http.Request) (*params, error) {
	p := &params{values: map[string]json.RawMessage{}, files: map[string]*upload{}}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			p.setString(k, vs[len(vs)-1])
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxBodySize {
		return nil, fmt.Errorf("request entity too large")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	ct := r.Header.Get("Content-Type")
	mediaType, mparams, err := mime.ParseMediaType(ct)
	if err != nil && ct != "" {
		return nil, fmt.Errorf("bad content type %q", ct)
	}
	switch mediaType {
	case "multipart/form-data":
		form, err := multipart.NewReader(bytes.NewReader(body), mparams["boundary"]).ReadForm(maxBodySize)
		if err != nil {
			return nil, fmt.Errorf("bad multipart body: %w", err)
		}
		defer func() { _ = form.RemoveAll() }()
		for k, vs := range form.Value {
			if len(vs) > 0 {
				p.setString(k, vs[len(vs)-1])
			}
		}
		for k, fhs := range form.File {
			if len(fhs) == 0 {
				continue
			}
			fh := fhs[len(fhs)-1]
			f, err := fh.Open()
			if err != nil {
				return nil, fmt.Errorf("open uploaded file %s: %w", k, err)
			}
			data, err := io.ReadAll(f)
			_ = f.Close()
			if err != nil {
				return nil, fmt.Errorf("read uploaded file %s: %w", k, err)
			}
			p.files[k] = &upload{Filename: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data}
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("bad JSON body: %w", err)
		}
		for k, v := range m {
			p.values[k] = v
		}
	case "application/x-www-form-urlencoded", "":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("bad form body: %w", err)
		}
		for k, vs := range q {
			if len(vs) > 0 {
				p.setString(k, vs[len(vs)-1])
			}
		}
	default:
		return nil, fmt.Errorf("unsupported content type %q", mediaType)
	}
	return p, nil
}

func (p *params) setString(k, v string) {
	b, _ := json.Marshal(v)
	p.values[k] = b
}

// has reports whether k was sent and is not JSON null.
func (p *params) has(k string) bool {
	v, ok := p.values[k]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// rawString returns the value of k with a JSON string unwrapped once when it holds
// JSON (a form field carrying an object, or a JSON body carrying a string).
func (p *params) rawString(k string) (string, bool) {
	v, ok := p.values[k]
	if !ok {
		return "", false
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return s, true
		}
	}
	if bytes.Equal(v, []byte("null")) {
		return "", false
	}
	return string(v), true
}

// str returns k as a string: a JSON string unquoted, any other JSON value as
// its literal text, "" when absent.
func (p *params) str(k string) string {
	s, _ := p.rawString(k)
	return s
}

// int returns k as an integer. ok is false when k is absent or empty.
func (p *params) int(k string) (n int64, ok bool, err error) {
	s, present := p.rawString(k)
	s = strings.TrimSpace(s)
	if !present || s == "" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, true, fmt.Errorf("field %q must be an integer", k)
		}
		n = int64(f)
	}
	return n, true, nil
}

// float returns k as a float.
func (p *params) float(k string) (f float64, ok bool, err error) {
	s, present := p.rawString(k)
	s = strings.TrimSpace(s)
	if !present || s == "" {
		return 0, false, nil
	}
	f, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, true, fmt.Errorf("field %q must be a number", k)
	}
	return f, true, nil
}

// bool returns k as a boolean ("true", "1", true).
func (p *params) bool(k string) bool {
	s, _ := p.rawString(k)
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true
	}
	return false
}

// json decodes k into dst. It accepts both a JSON value and a string holding
// JSON (the multipart encoding). ok is false when k is absent.
func (p *params) json(k string, dst any) (ok bool, err error) {
	v, present := p.values[k]
	if !present || !p.has(k) {
		return false, nil
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return true, err
		}
		if strings.TrimSpace(s) == "" {
			return false, nil
		}
		v = []byte(s)
	}
	return true, json.Unmarshal(v, dst)
}
