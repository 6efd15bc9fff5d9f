package fetch_test

import (
	"fmt"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// A poller waits Backoff.Delay after each failed poll of a source, passing
// along whatever delay the server asked for.
func ExampleBackoff_Delay() {
	b := fetch.Backoff{Base: 30 * time.Second, Max: time.Hour, Rand: func() float64 { return 0.5 }}
	err := error(&fetch.StatusError{URL: "https://www.rusemb.org.uk/newarh/", Code: 503, RetryAfter: 10 * time.Minute})
	for failures := 1; failures <= 4; failures++ {
		retryAfter, _ := fetch.RetryAfter(err)
		fmt.Println(failures, b.Delay(failures, retryAfter), b.Delay(failures, 0))
	}
	fmt.Println(err)
	// Output:
	// 1 10m0s 22.5s
	// 2 10m0s 45s
	// 3 10m0s 1m30s
	// 4 10m0s 3m0s
	// fetch https://www.rusemb.org.uk/newarh/: status 503 Service Unavailable (retry after 10m0s)
}
