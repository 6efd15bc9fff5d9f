package parse

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
)

// decode returns body as valid UTF-8. The encoding comes from, in order: a
// byte order mark, the charset in contentType, the XML declaration, an HTML
// <meta> near the top, and finally a guess: UTF-8 when the bytes are valid
// UTF-8, else windows-1252 as browsers do. A header saying UTF-8 that the
// bytes contradict gives way to what the document itself declares, because
// Russian sites often sit behind servers that label everything UTF-8.
func decode(body []byte, contentType string) string {
	enc, bomLen := bomEncoding(body)
	body = body[bomLen:]
	if bomLen == 0 {
		enc = declaredEncoding(body, contentType)
	}
	// The text shares body's memory (or the decoder's fresh output) rather
	// than copying up to 10 MiB: Read's caller does not change body while
	// it runs, and nothing Read returns keeps a part of the text.
	var s string
	if enc == nil {
		s = unsafe.String(unsafe.SliceData(body), len(body))
	} else if out, err := enc.NewDecoder().Bytes(body); err == nil {
		s = unsafe.String(unsafe.SliceData(out), len(out))
	} else {
		s = unsafe.String(unsafe.SliceData(body), len(body))
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return fixXMLDeclaration(s)
}

// bomEncoding returns the encoding a byte order mark announces (nil for
// UTF-8: no conversion) and the mark's length, 0 when there is no mark.
func bomEncoding(body []byte) (encoding.Encoding, int) {
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		return nil, 3
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		e, _ := charset.Lookup("utf-16be")
		return e, 2
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		e, _ := charset.Lookup("utf-16le")
		return e, 2
	}
	return nil, 0
}

// declaredEncoding returns the encoding to convert body from, or nil when
// body is to be taken as UTF-8.
func declaredEncoding(body []byte, contentType string) encoding.Encoding {
	valid := utf8.Valid(body)
	headerUTF8 := false
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		if e, name := charset.Lookup(params["charset"]); e != nil {
			if name != "utf-8" {
				return e
			}
			if valid {
				return nil
			}
			headerUTF8 = true // contradicted by the bytes: see what the document says
		}
	}
	for _, label := range []string{xmlEncodingLabel(body), metaCharset(body)} {
		if e, name := charset.Lookup(label); e != nil {
			// A document readable as ASCII cannot be UTF-16, whatever it
			// says (the HTML standard reads such a label as UTF-8).
			if name == "utf-8" || strings.HasPrefix(name, "utf-16") {
				return nil
			}
			return e
		}
	}
	if valid || headerUTF8 {
		// Invalid sequences in a page labelled UTF-8 become U+FFFD rather
		// than turning the whole page into windows-1252 mojibake.
		return nil
	}
	e, _ := charset.Lookup("windows-1252")
	return e
}

// metaCharset returns the charset an HTML <meta> in the head of body
// declares, or "".
func metaCharset(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body[:min(len(body), 4096)]))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" || !hasAttr {
				continue
			}
			var cs, equiv, content string
			for {
				k, v, more := z.TagAttr()
				switch string(k) {
				case "charset":
					cs = string(v)
				case "http-equiv":
					equiv = strings.ToLower(string(v))
				case "content":
					content = string(v)
				}
				if !more {
					break
				}
			}
			if cs != "" {
				return cs
			}
			if equiv == "content-type" {
				if _, params, err := mime.ParseMediaType(content); err == nil && params["charset"] != "" {
					return params["charset"]
				}
			}
		}
	}
}

// xmlDeclaration returns the bounds of the XML declaration at the start of
// s (after leading whitespace), or -1, -1.
func xmlDeclaration(s []byte) (int, int) {
	start := len(s) - len(bytes.TrimLeft(s, " \t\r\n"))
	if !bytes.HasPrefix(s[start:], []byte("<?xml")) {
		return -1, -1
	}
	end := bytes.Index(s[start:], []byte("?>"))
	if end < 0 {
		return -1, -1
	}
	return start, start + end + 2
}

// encodingAttr finds the value of the encoding pseudo-attribute in an XML
// declaration and returns its bounds, or -1, -1.
func encodingAttr(decl []byte) (int, int) {
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return -1, -1
	}
	j := i + len("encoding")
	for j < len(decl) && isXMLSpace(decl[j]) {
		j++
	}
	if j >= len(decl) || decl[j] != '=' {
		return -1, -1
	}
	j++
	for j < len(decl) && isXMLSpace(decl[j]) {
		j++
	}
	if j >= len(decl) || (decl[j] != '"' && decl[j] != '\'') {
		return -1, -1
	}
	quote := decl[j]
	k := bytes.IndexByte(decl[j+1:], quote)
	if k < 0 {
		return -1, -1
	}
	return j + 1, j + 1 + k
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func xmlEncodingLabel(body []byte) string {
	start, end := xmlDeclaration(body)
	if start < 0 {
		return ""
	}
	decl := body[start:end]
	vs, ve := encodingAttr(decl)
	if vs < 0 {
		return ""
	}
	return string(decl[vs:ve])
}

// fixXMLDeclaration makes the XML declaration of the already decoded s say
// UTF-8, so that the XML parser does not convert the text a second time.
func fixXMLDeclaration(s string) string {
	b := []byte(prefix(s, 1024))
	start, end := xmlDeclaration(b)
	if start < 0 {
		return s
	}
	vs, ve := encodingAttr(b[start:end])
	if vs < 0 || strings.EqualFold(s[start+vs:start+ve], "utf-8") {
		return s
	}
	return s[:start+vs] + "UTF-8" + s[start+ve:]
}
