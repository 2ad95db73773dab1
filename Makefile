# xvf — the two quick-start targets (demo, test) and the pieces they are made of.
# Debian 12 as root; the Swift toolchain is expected on PATH (swift.org's Linux build).

PREFIX      ?= /usr/local
DEBIAN_DEPS := libpci-dev libxen-dev pci.ids pciutils
DEMO_ROOT   := demo-host
SWIFT       ?= swift

.PHONY: demo test deps build release clean

## demo: install what is missing, build, write the seeds' simulated host, and list its VFs.
demo: deps release
	.build/release/xvf-sim $(DEMO_ROOT) --replace
	.build/release/xvf --root $(DEMO_ROOT) list

## test: install what is missing and run the whole test suite.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

## deps: Debian packages xvf builds against (installed only when missing; apt-get update once).
deps:
	@command -v $(SWIFT) >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain for Debian 12 from swift.org" >&2; exit 1; }
	@missing=""; for p in $(DEBIAN_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

clean:
	rm -rf .build $(DEMO_ROOT)
