# oqfwd — build, test, install. Needs Node.js >= 20, npm and make.
PREFIX ?= /usr/local
NODE_MODULES := node_modules/.package-lock.json
SOURCES := $(wildcard bin/*.ts lib/*.ts lib/*/*.ts test/*.ts test/*/*.ts) tsconfig.json
BIN := dist/bin/oqfwd.js

.PHONY: all build test sample bench install uninstall clean

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

bench: build
	node bench/run.mjs

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
