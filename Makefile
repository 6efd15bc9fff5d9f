# The two commands of the README: `make run` (or go run ./cmd/bulletinbot) and `make test`.
GO ?= go
BENCH ?= .

.PHONY: test vet unit run bench fakebot build

## test: gofmt and go vet, the deploy files' checks, then the whole suite with -race against a real Redis
## (TEST_REDIS_URL, or a throwaway redis-server started for the run).
test: vet
	./deploy/check.sh
	./.ci/with-redis $(GO) test -race -count=1 ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

build:
	$(GO) build -o bin/bulletinbot ./cmd/bulletinbot

run:
	$(GO) run ./cmd/bulletinbot

## fakebot: a fake Telegram Bot API on 127.0.0.1:8081 to chat with the bot by hand.
fakebot:
	$(GO) run ./bot/telegramtest/cmd/fakebot

## bench: the benchmarks whose figures are in the README.
## The pipeline benchmarks run once each (-benchtime 1x): one run is tens of
## thousands of messages or ten source changes.
bench:
	./.ci/with-redis sh -c "$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./poller/... ./bot/store/ ./bot/render/ && \
		$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime 1x ./bot/delivery/ ./cmd/bulletinbot/"

