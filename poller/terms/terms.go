// Package terms turns English and Russian text into search terms, the one
// vocabulary that the search index, /search, /follow and the "Similar" button
// share: words are case-folded (Unicode folding from x/text, ё read as е),
// stop words dropped, and each word stemmed by the Snowball stemmer of its
// script (Cyrillic: Russian, Latin: English), so that "паспорта" and
// "паспорт", or "visas" and "visa", are one term. No pattern from a user is
// ever compiled: text is only split on letters and digits.
package terms

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/russian"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Bounds on what one text yields.
const (
	// MaxWordBytes: longer "words" (a hash, a run of letters in a hostile
	// title) are not terms.
	MaxWordBytes = 48
	// MaxPerText is the most terms one publication is indexed under.
	MaxPerText = 64
)

// Of returns the distinct terms of text in the order they first occur, at
// most max of them (max <= 0: MaxPerText).
func Of(text string, max int) []string {
	if max <= 0 {
		max = MaxPerText
	}
	var out []string
	seen := make(map[string]bool)
	for w := range words(text) {
		t, ok := Term(w)
		if !ok || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) == max {
			break
		}
	}
	return out
}

// Term returns the term of one word, or false when the word is no term (a
// stop word, a single letter, too long, or holding more than letters and
// digits).
func Term(word string) (string, bool) {
	if word == "" || len(word) > MaxWordBytes*2 {
		return "", false
	}
	w := fold(word)
	if len(w) > MaxWordBytes || utf8.RuneCountInString(w) < 2 {
		return "", false
	}
	cyrillic, latin := false, false
	for _, r := range w {
		switch {
		case unicode.Is(unicode.Cyrillic, r):
			cyrillic = true
		case unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
		default:
			return "", false
		}
	}
	switch {
	case cyrillic && !latin:
		if russian.IsStopWord(w) {
			return "", false
		}
		w = russian.Stem(w, true)
	case latin && !cyrillic:
		if english.IsStopWord(w) {
			return "", false
		}
		w = english.Stem(w, true)
	}
	if w == "" {
		return "", false
	}
	return w, true
}

// IsTerm reports whether s has the form of a term (as Term returns them):
// what a term read back from a button or a stored record must look like.
func IsTerm(s string) bool {
	if s == "" || len(s) > MaxWordBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return folder.String(s) == s
}

var folder = cases.Fold()

// fold case-folds w in its composed form and reads ё as е, as Russian
// writers themselves mostly do.
func fold(w string) string {
	w = folder.String(norm.NFC.String(w))
	return strings.ReplaceAll(w, "ё", "е")
}

// words yields the runs of letters and digits of text (marks kept with
// their letter, so that a decomposed "й" stays one word).
func words(text string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range text {
			in := unicode.IsLetter(r) || unicode.IsDigit(r) || (start >= 0 && unicode.Is(unicode.Mn, r))
			switch {
			case in && start < 0:
				start = i
			case !in && start >= 0:
				if !yield(text[start:i]) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(text[start:])
		}
	}
}

// Query returns the terms of a user's query, at most max of them, and
// whether any word was left out because of max.
func Query(text string, max int) ([]string, bool) {
	all := Of(text, max+1)
	if len(all) > max {
		return all[:max], true
	}
	return all, false
}
