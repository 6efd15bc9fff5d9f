package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBodyBytes caps a request body; Telegram refuses far smaller bodies than
// this for text methods, so a bigger one is a bug in the caller.
const maxBodyBytes = 10 << 20

// params holds a request's parameters as Telegram sees them: every value is a
// string, and JSON-typed parameters (reply_markup, scope, ...) hold JSON text.
type params map[string]string

// readParams merges the query string with a form, multipart or JSON body, the
// body winning, as the Bot API accepts all of them.
func readParams(w http.ResponseWriter, r *http.Request) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p[k] = v[0]
		}
	}
	if r.Body == nil || r.Method == http.MethodGet {
		return p, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	ct := r.Header.Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(ct)
	switch mediaType {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("telegramtest: reading body: %w", err)
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		if err := p.mergeJSON(body); err != nil {
			return nil, err
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBodyBytes); err != nil {
			return nil, fmt.Errorf("telegramtest: parsing multipart body: %w", err)
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
	default:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("telegramtest: reading body: %w", err)
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("telegramtest: parsing form body: %w", err)
		}
		for k, v := range vals {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
	}
	return p, nil
}

// mergeJSON adds the fields of a JSON object: strings unquoted, null dropped
// (Telegram treats a null field as absent), anything else as JSON text.
func (p params) mergeJSON(body []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return fmt.Errorf("telegramtest: parsing JSON body: %w", err)
	}
	for k, raw := range obj {
		raw = bytes.TrimSpace(raw)
		switch {
		case bytes.Equal(raw, []byte("null")):
			delete(p, k)
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("telegramtest: parsing JSON field %s: %w", k, err)
			}
			p[k] = s
		default:
			p[k] = string(raw)
		}
	}
	return nil
}

func (p params) has(name string) bool {
	_, ok := p[name]
	return ok
}

// int64 reads an integer the way the Bot API does: anything unparsable is 0.
func (p params) int64(name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(p[name]), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func (p params) int(name string) int {
	return int(p.int64(name))
}

// bool reads a Boolean parameter; Telegram takes "true" and "1" as true.
func (p params) bool(name string) bool {
	v := strings.ToLower(strings.TrimSpace(p[name]))
	return v == "true" || v == "1"
}

// json decodes a JSON-typed parameter. Absent or "null" leaves v untouched
// and reports false.
func (p params) json(name string, v any) (bool, error) {
	raw, ok := p[name]
	if !ok || strings.TrimSpace(raw) == "" || strings.TrimSpace(raw) == "null" {
		return false, nil
	}
	return true, json.Unmarshal([]byte(raw), v)
}
