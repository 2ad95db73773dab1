# xvf — the two quick-start targets (demo, test) and the pieces they are made of.
# Debian 12 as root; the Swift toolchain is expected on PATH (swift.org's Linux build).

PREFIX      ?= /usr/local
DEBIAN_DEPS := libpci-dev libxen-dev pci.ids pciutils
DEMO_ROOT   := demo-host
SWIFT       ?= swift

.PHONY: demo test deps build release check-static bench install clean

## demo: install what is missing, build, write the seeds' simulated host, give one of its VFs to the
## domain web1 in one step (the simulator's executable runs xvf with its simulated kernel and
## toolstack), and list the VFs with their holders (the shipped xvf reads the tree).
demo: deps release
	.build/release/xvf-sim $(DEMO_ROOT) --replace
	.build/release/xvf-sim xvf --root $(DEMO_ROOT) assign eno49/2 --dom web1 --permissive
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

## release: xvf and xvf-sim with the Swift runtime and Foundation linked in, so a dom0 needs only
## Debian's Xen and libpci libraries.
## -Osize: the stripped binary stays under 16 MB, and measures as fast as -O on the benchmark.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib -Xswiftc -Osize

## check-static: the release binary needs no Swift runtime library and holds no simulator; prints its size.
check-static: release
	@if ldd .build/release/xvf | grep -E 'libswift|libFoundation|libdispatch'; then \
		echo "xvf links a Swift runtime library dynamically" >&2; exit 1; fi
	@if strings .build/release/xvf | grep -m 3 -E 'SimulatedKernel|SimulatedToolstack|SimXenstore|xvf-simulated-host'; then \
		echo "the shipped xvf holds simulator code" >&2; exit 1; fi
	@strip -o .build/release/xvf.stripped .build/release/xvf
	@echo "xvf: $$(stat -c %s .build/release/xvf) bytes, stripped $$(stat -c %s .build/release/xvf.stripped) bytes; no Swift runtime library needed"

## bench: xvf list --json against lspci on simulated hosts of 4x7, 16x64 and 64x64 PFs x VFs.
bench: release
	python3 Tests/Bench/bench.py .build/release

## install: the binary, shell completions, the man page and the boot unit under $(DESTDIR)$(PREFIX).
install: release
	install -D -m 0755 .build/release/xvf $(DESTDIR)$(PREFIX)/bin/xvf
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/share/man/man1
	.build/release/xvf --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/xvf
	.build/release/xvf --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_xvf
	.build/release/xvf --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/xvf.fish
	mkdir -p .build/manual
	$(SWIFT) package --allow-writing-to-directory .build/manual generate-manual --output-directory .build/manual
	install -m 0644 .build/manual/xvf.1 $(DESTDIR)$(PREFIX)/share/man/man1/xvf.1
	if [ -f xlcfg/xvf-boot.service ]; then \
		install -d $(DESTDIR)/etc/systemd/system; \
		sed 's|/usr/local/bin/xvf|$(PREFIX)/bin/xvf|g' xlcfg/xvf-boot.service > $(DESTDIR)/etc/systemd/system/xvf-boot.service; \
	fi

## lab: xvf end to end on a real Xen 4.17 host: QEMU (TCG) with two SR-IOV NICs, a cached Debian dom0
## (/var/cache/xvf-lab), the scenario of Tests/Lab/scenario.sh checked against xl, lspci and sysfs.
.PHONY: lab
lab:
	Tests/Lab/lab.sh

clean:
	rm -rf .build $(DEMO_ROOT)
