package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/poller/parse"
)

type memContacts struct{ c parse.Contacts }

func (m *memContacts) SaveConsularContacts(_ context.Context, c parse.Contacts) (parse.Contacts, error) {
	old := m.c
	m.c = c
	return old, nil
}

type staffTold struct{ told []parse.Contacts }

func (s *staffTold) ConsularContactsChanged(_ context.Context, old, now parse.Contacts) {
	s.told = append(s.told, old, now)
}

func TestWatchContactsReportsChangesOnly(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	st, staff := &memContacts{}, &staffTold{}
	old := parse.Contacts{Phone: "+44 (0) 203 668 7474", Email: "info@rusemb.org.uk"}
	changed := parse.Contacts{Phone: "+44 (0) 203 161 8858", Email: "info@rusemb.org.uk"}
	for _, c := range []parse.Contacts{old, old, changed, changed} {
		watchContacts(context.Background(), st, staff, logger, c)
	}
	if len(staff.told) != 2 || staff.told[0] != old || staff.told[1] != changed {
		t.Errorf("staff told %+v, want one change from %+v to %+v", staff.told, old, changed)
	}
	if n := strings.Count(logs.String(), "consular contacts on the site changed"); n != 1 {
		t.Errorf("logged the change %d times, want once:\n%s", n, logs.String())
	}
}
