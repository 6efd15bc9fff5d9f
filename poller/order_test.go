package poller

import (
	"strings"
	"testing"
	"time"
)

func TestOldestFirst(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		page []Publication // as listed, top first
		want string
	}{
		{"dated, newest on top", []Publication{{ID: "c", Date: day(3)}, {ID: "b", Date: day(2)}, {ID: "a", Date: day(1)}}, "a,b,c"},
		{"one day: the page read bottom-up", []Publication{{ID: "later", Date: day(1)}, {ID: "earlier", Date: day(1)}}, "earlier,later"},
		{"date wins over position", []Publication{{ID: "old-on-top", Date: day(1)}, {ID: "new", Date: day(3)}, {ID: "mid", Date: day(2)}}, "old-on-top,mid,new"},
		{"undated: bottom-up", []Publication{{ID: "z"}, {ID: "y"}, {ID: "x"}}, "x,y,z"},
		{"undated after dated", []Publication{{ID: "u"}, {ID: "d2", Date: day(2)}, {ID: "d1", Date: day(1)}}, "d1,d2,u"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, i := range OldestFirst(tt.page) {
				got = append(got, tt.page[i].ID)
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Fatalf("got %s, want %s", g, tt.want)
			}
		})
	}
}
