package delivery_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that engines stopped by the tests leave no goroutine
// behind: Run must wait for everything it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
