package bot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
	"github.com/bulletinbot/bulletinbot/poller/parse"
)

type contactsStore interface {
	poller.Store
	bot.ContactsReader
	SaveConsularContacts(ctx context.Context, c parse.Contacts) (parse.Contacts, error)
}

func TestLiveConsularCardRedis(t *testing.T) { testLiveConsularCard(t, newEnv(t)) }
func TestLiveConsularCardBolt(t *testing.T)  { testLiveConsularCard(t, newBoltEnv(t)) }

// testLiveConsularCard: the poller reads a changed phone from the header
// of the page it fetches and /consular shows it, with whether the section
// is open now in London; the map button sends the address as a venue.
func testLiveConsularCard(t *testing.T, e *env) {
	ctx := context.Background()
	st := e.store.(contactsStore)
	page, err := os.ReadFile("../poller/parse/testdata/embassy-newarh.html")
	if err != nil {
		t.Fatal(err)
	}
	page = []byte(strings.Replace(string(page), "+44 (0) 203 668 7474", "+44 (0) 203 161 8858", 1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	t.Cleanup(srv.Close)
	var seen []parse.Contacts
	p := poller.New(poller.Params{
		Sources: []poller.Source{{URL: srv.URL + "/newarh/"}}, Store: st, Fetcher: fetch.New(fetch.Config{}),
		Categorizer: e.cats, Now: e.clock.Now,
		OnContacts: func(ctx context.Context, _ string, c parse.Contacts) {
			seen = append(seen, c)
			if _, err := st.SaveConsularContacts(ctx, c); err != nil {
				t.Error(err)
			}
		},
	})
	if _, err := p.Poll(ctx, poller.Source{URL: srv.URL + "/newarh/"}); err != nil {
		t.Fatal(err)
	}
	if want := []parse.Contacts{{Phone: "+44 (0) 203 161 8858", Email: "info@rusemb.org.uk"}}; !slices.Equal(seen, want) {
		t.Fatalf("contacts read: got %+v, want %+v", seen, want)
	}

	const user = 42
	e.tg.AddPrivateChat(user, "Ann", "en")
	e.start(func(p *bot.Params) { p.Contacts = st })
	// Tuesday 17 October 2017, 10:32 in London.
	card := e.say(user, user, "/consular", 1)
	mustContain(t, "card", card.Text, "+44 (0) 203 161 8858", "Open now, closes at 12:30")
	if strings.Contains(card.Text, "668 7474") {
		t.Errorf("card still shows the configured phone: %s", card.Text)
	}
	if got := keyboardData(card); !slices.Equal(got, []string{"cmap:"}) {
		t.Fatalf("card keyboard: got %v, want the map button", got)
	}
	e.tg.PressButton(user, user, card.MessageID, "cmap:")
	venue := e.waitMessages(user, 2)[1]
	if venue.Venue == nil || !strings.Contains(venue.Venue.Address, "Kensington Palace Gardens") {
		t.Fatalf("map: got %+v, want a venue with the address", venue)
	}

	// Russia Day, a Tuesday, at 10:00 in London: closed for the holiday.
	e.clock.Advance(time.Date(2018, 6, 12, 9, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	mustContain(t, "card on a holiday", e.say(user, user, "/consular", 3).Text, "Closed today (holiday), opens Wednesday 09:30")
	// Friday after hours: opens on Monday.
	e.clock.Advance(time.Date(2018, 6, 15, 14, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	mustContain(t, "card on Friday afternoon", e.say(user, user, "/consular", 4).Text, "Closed now, opens Monday 09:30")
}
