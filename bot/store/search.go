package store

import (
	"cmp"
	"slices"

	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/terms"
)

// Bounds of the search index and of one search, the same on both stores.
const (
	// termCap is how many publications one term keeps, newest first: a
	// search reads at most this many per term.
	termCap = 500
	// MaxQueryTerms is the most terms one search looks up.
	MaxQueryTerms = 8
	// MaxResults is the most publications one search ranks.
	MaxResults = 50
)

// publicationTerms are the terms a publication is indexed under: its
// title's first, then its summary's.
func publicationTerms(p poller.Publication) []string {
	return terms.Of(p.Title+"\n"+p.Summary, terms.MaxPerText)
}

// clampQuery keeps the well-formed terms of a query, each once, at most
// MaxQueryTerms: a query is outside input (a forged button too).
func clampQuery(query []string) []string {
	out := make([]string, 0, min(len(query), MaxQueryTerms))
	for _, t := range query {
		if terms.IsTerm(t) && !slices.Contains(out, t) && len(out) < MaxQueryTerms {
			out = append(out, t)
		}
	}
	return out
}

// scoredID is one entry of a term's list: a publication and its latest
// score (newer is higher).
type scoredID struct {
	id    string
	score float64
}

// rankTerms merges the lists of a query's terms: the publications matching
// the most terms first, then the newest; at most MaxResults.
func rankTerms(lists [][]scoredID) []string {
	type hit struct {
		id    string
		n     int
		score float64
	}
	byID := map[string]*hit{}
	var hits []*hit
	for _, l := range lists {
		for _, e := range l {
			h := byID[e.id]
			if h == nil {
				h = &hit{id: e.id, score: e.score}
				byID[e.id] = h
				hits = append(hits, h)
			}
			h.n++
		}
	}
	slices.SortFunc(hits, func(a, b *hit) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	ids := make([]string, 0, min(len(hits), MaxResults))
	for _, h := range hits[:min(len(hits), MaxResults)] {
		ids = append(ids, h.id)
	}
	return ids
}

// pageOf returns ids[offset:offset+n], clamped.
func pageOf(ids []string, offset, n int) []string {
	offset = max(offset, 0)
	if offset >= len(ids) {
		return nil
	}
	return ids[offset:min(offset+n, len(ids))]
}
