package i18n

import "testing"

// BenchmarkT fills a text with escaped values and a number, as an alert
// and a staff report do: the catalog's work per message.
func BenchmarkT(b *testing.B) {
	c, err := New("", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("item", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.T("ru", LatestItem, "date", "17.10.2017", "category", "Заявления", "url", "https://x.example/?a=1&b=2", "title", "Statement on <Catalonia> & Spain")
		}
	})
	b.Run("count", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.T("ru", BroadcastControl, "audience", "все подписчики", "count", int64(12345))
		}
	})
}
