package main

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes the YAML document b into out, which must be a
// pointer to a struct, and reports every problem at once in the words of
// the file: its name, the line, the key, and for a misspelt key the key
// meant ("config.yaml line 3: unknown key \"sorces\" (did you mean
// \"sources\"?)"), never the Go types behind it.
func decodeYAML(name string, b []byte, out any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil // an empty file keeps every default
	}
	keys := map[int]string{} // line -> the key path written there
	var errs []error
	walkYAML(doc.Content[0], reflect.TypeOf(out).Elem(), "", keys, func(line int, msg string) {
		errs = append(errs, fmt.Errorf("%s line %d: %s", name, line, msg))
	})
	unknownFound := len(errs) > 0
	if err := doc.Decode(out); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			errs = append(errs, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: ")))
		} else {
			for _, e := range te.Errors {
				if unknownFound && strings.Contains(e, " not found in type ") {
					continue // said above, with a suggestion
				}
				errs = append(errs, fmt.Errorf("%s %s", name, typeProblem(e, keys)))
			}
		}
	}
	return errors.Join(errs...)
}

var unmarshalErr = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// typeProblem rewrites one of yaml's type errors ("line 4: cannot unmarshal
// !!str `abc` into time.Duration") in a user's words.
func typeProblem(e string, keys map[int]string) string {
	m := unmarshalErr.FindStringSubmatch(e)
	if m == nil {
		return e
	}
	line, _ := strconv.Atoi(m[1])
	what := strconv.Quote(m[3])
	switch m[2] {
	case "seq":
		what = "a list"
	case "map":
		what = "a mapping (key: value lines)"
	}
	key := ""
	if k, ok := keys[line]; ok {
		key = k + ": "
	}
	return fmt.Sprintf("line %d: %s%s is not %s", line, key, what, goTypeWords(m[4]))
}

// goTypeWords says what a Go type holds, for a user who writes YAML.
func goTypeWords(t string) string {
	switch {
	case t == "time.Duration":
		return "a duration such as 90s, 5m or 24h"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "text"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "a list here"
	default:
		return "a mapping (key: value lines) here"
	}
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// walkYAML checks n against t: every key of a mapping decoded into a
// struct must be one of its fields. It records in keys the path of the key
// on each line, for the decoder's errors.
func walkYAML(n *yaml.Node, t reflect.Type, path string, keys map[int]string, bad func(line int, msg string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // decodes itself
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			keys[k.Line] = p
			ft, ok := fields[k.Value]
			if !ok {
				msg := fmt.Sprintf("unknown key %q", p)
				if s := closest(k.Value, slices.Sorted(mapKeys(fields))); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", join(path, s))
				}
				bad(k.Line, msg)
				continue
			}
			walkYAML(v, ft, p, keys, bad)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			keys[n.Content[i].Line] = p
			walkYAML(n.Content[i+1], t.Elem(), p, keys, bad)
		}
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for i, item := range n.Content {
			walkYAML(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), keys, bad)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// yamlFields maps the YAML keys of struct t (inline fields included) to
// their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default
		}
		out[name] = f.Type
	}
	return out
}

// closest returns the known key nearest to key, if it is near enough to be
// a slip of the keyboard.
func closest(key string, known []string) string {
	best, bestD := "", len(key)/3+2
	for _, k := range known {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
