# oqfwd — build, test, install. Needs Node.js >= 20, npm and make.
PREFIX ?= /usr/local
NODE_MODULES := node_modules/.package-lock.json
SOURCES := $(wildcard bin/*.ts lib/*.ts lib/*/*.ts test/*.ts test/*/*.ts) tsconfig.json
BIN := dist/bin/oqfwd.js

.PHONY: all build test fuzz sample bench soak install uninstall clean

all: build

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(BIN): $(NODE_MODULES) $(SOURCES)
	rm -rf dist
	npx tsc -p tsconfig.json
	chmod +x $(BIN)
	@touch $@

build: $(BIN)

## Run oqfwd on the bundled sample logs.
sample: build
	node $(BIN) --stats --tz UTC --host sample-host samples/*

## Run the whole test suite.
test: build
	node test/run.mjs

## The property and fuzz tests, longer and from a fresh seed (FUZZ_SEED and FUZZ_RUNS to choose).
fuzz: build
	FUZZ_SEED=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')} FUZZ_RUNS=$${FUZZ_RUNS:-3000} \
	  node node_modules/tap/dist/esm/run.mjs --reporter=tap --timeout=3600 dist/test/fuzz.test.js

bench: build
	node bench/run.mjs

## oqfwd as a resident forwarder for SOAK_MINUTES (30): RSS over time, events lost, duplicates.
soak: build
	bash test/peers/fetch.sh >/dev/null
	node bench/soak.mjs

install: build
	mkdir -p $(DESTDIR)$(PREFIX)/lib/oqfwd/dist $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	cp -R dist/bin dist/lib $(DESTDIR)$(PREFIX)/lib/oqfwd/dist/
	cp package.json package-lock.json $(DESTDIR)$(PREFIX)/lib/oqfwd/
	cp -R node_modules $(DESTDIR)$(PREFIX)/lib/oqfwd/
	cd $(DESTDIR)$(PREFIX)/lib/oqfwd && npm prune --omit=dev --no-audit --no-fund >/dev/null
	ln -sf ../lib/oqfwd/dist/bin/oqfwd.js $(DESTDIR)$(PREFIX)/bin/oqfwd
	cp man/oqfwd.1 $(DESTDIR)$(PREFIX)/share/man/man1/oqfwd.1

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/lib/oqfwd $(DESTDIR)$(PREFIX)/bin/oqfwd $(DESTDIR)$(PREFIX)/share/man/man1/oqfwd.1

clean:
	rm -rf dist .tap
