# xvf — the two quick-start targets (demo, test) and the pieces they are made of.
# Debian 12 or 13 as root. Swift: whatever `swift` is on PATH (swift.org's Linux build, or Debian 13's
# swiftlang, which `make deps` installs there when there is none).

PREFIX      ?= /usr/local
DEBIAN_DEPS := libpci-dev libxen-dev pci.ids pciutils
# What the tests run besides xvf: virt-xml-validate (and the xmllint it calls) holds the libvirt XML to
# libvirt's schema; a test checks that the system's own ip is refused for a host tree, so there must be
# one (a minimal Debian root has no iproute2).
TEST_DEPS   := libvirt-clients libxml2-utils strace iproute2
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

## test: install what is missing and run the whole test suite: the Swift tests, then the Ansible
## collection's playbooks against simulated hosts (SKIP_ANSIBLE=1 leaves those out).
test: deps
	@$(MAKE) --no-print-directory deps DEBIAN_DEPS="$(TEST_DEPS)"
	$(SWIFT) build --build-tests
	$(SWIFT) test
	@if [ "$(SKIP_ANSIBLE)" != 1 ]; then $(MAKE) --no-print-directory test-ansible; fi

## test-ansible: the xvf.xen collection (xlcfg/ansible) with ansible-core from PyPI in .build/ansible-venv,
## its playbooks run with connection: local against simulated hosts (Tests/Ansible/run.sh).
.PHONY: test-ansible
test-ansible:
	bash Tests/Ansible/run.sh .build/debug

## deps: Debian packages xvf builds against (installed only when missing; apt-get update once). With no
## swift on PATH: Debian 13 and later get Debian's own Swift (swiftlang: 6.0.3 on Debian 13, about 450 MB
## to download); Debian 12 has none, so there it says where to get one.
deps:
	@if ! command -v $(SWIFT) >/dev/null; then \
		. /etc/os-release 2>/dev/null || true; \
		case "$${ID:-}:$${VERSION_CODENAME:-}" in \
		debian:bookworm|debian:bullseye|debian:buster|debian:) \
			echo "swift is not on PATH: install the Swift 6 toolchain for Debian 12 from swift.org (https://www.swift.org/install/linux/) and put its usr/bin on PATH" >&2; exit 1 ;; \
		debian:*) \
			echo "installing: swiftlang (Debian's Swift; about 450 MB to download)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swiftlang >/dev/null || exit 1; \
			command -v $(SWIFT) >/dev/null || { echo "swiftlang is installed but $(SWIFT) is not on PATH: link /usr/libexec/swift/bin/swift to /usr/bin/swift (dpkg-reconfigure swiftlang)" >&2; exit 1; } ;; \
		*) \
			echo "swift is not on PATH: install a Swift 6 toolchain (https://www.swift.org/install/linux/)" >&2; exit 1 ;; \
		esac; \
	fi
	@missing=""; for p in $(DEBIAN_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

## release: xvf and xvf-sim with the Swift runtime, Foundation and libstdc++ linked in, so a dom0 needs
## only glibc and Debian's Xen and libpci libraries.
## -Osize: the stripped binary stays near 16 MB (15.3 MiB), and measures as fast as -O on the benchmark.
## libstdc++ (the Swift runtime is C++): loading and relocating libstdc++.so was a third of xvf's start
## (Tests/Bench/BENCHMARKS.md). The runtime's link line asks for -lstdc++; a directory searched before
## the compiler's own holds only gcc's libstdc++.a, so that is what it finds. glibc stays shared (dlopen).
## --disable-local-rpath: no $ORIGIN run path, so neither start-up nor a dlopen looks for libraries
## beside the binary first (some twenty failed opens at each start).
# The toolchain's clang, the one that links: beside swift's real path (swift.org's usr/bin, Debian's
# /usr/libexec/swift/bin behind /usr/bin/swift); without one there, the C compiler. Its -print-file-name
# finds gcc's libraries as the link does. (Recursive: swift may be installed by deps, after parsing.)
CLANG          ?= $(or $(wildcard $(dir $(realpath $(shell command -v $(SWIFT) 2>/dev/null)))clang),$(CC))
STATIC_CXX_DIR := $(CURDIR)/.build/static-libstdc++
# libstdc++.a comes with the gcc release whose installation $(CLANG) links with (its crtbegin.o's
# directory is named after it: .../gcc/x86_64-linux-gnu/14), so that release's libstdc++-N-dev.
release: deps
	@archive=$$($(CLANG) -print-file-name=libstdc++.a); \
	if [ ! -f "$$archive" ]; then \
		gcc_release=$$(basename "$$(dirname "$$($(CLANG) -print-file-name=crtbegin.o)")"); \
		case "$$gcc_release" in [0-9]*) ;; *) \
			echo "$(CLANG) finds no gcc installation: install gcc and its libstdc++-N-dev" >&2; exit 1 ;; esac; \
		echo "installing: libstdc++-$$gcc_release-dev (libstdc++.a, linked into the release binary)"; \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libstdc++-$$gcc_release-dev >/dev/null 2>&1 || \
		  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libstdc++-$$gcc_release-dev >/dev/null; }; } || exit 1; \
		archive=$$($(CLANG) -print-file-name=libstdc++.a); \
	fi; \
	if [ ! -f "$$archive" ]; then \
		echo "$(CLANG) finds no libstdc++.a: install the libstdc++-N-dev of the gcc it links with" >&2; exit 1; fi; \
	mkdir -p $(STATIC_CXX_DIR) && ln -sfn "$$archive" $(STATIC_CXX_DIR)/libstdc++.a
	$(SWIFT) build -c release --static-swift-stdlib --disable-local-rpath -Xswiftc -Osize -Xswiftc -L$(STATIC_CXX_DIR)

## check-static: the release binary needs no Swift runtime library nor libstdc++ and holds no simulator;
## prints its size.
check-static: release
	@if ldd .build/release/xvf | grep -E 'libswift|libFoundation|libdispatch|libstdc'; then \
		echo "xvf links a Swift runtime library or libstdc++ dynamically" >&2; exit 1; fi
	@if strings .build/release/xvf | grep -m 3 -E 'SimulatedKernel|SimulatedToolstack|SimXenstore|SimKernelJournal|xvf-simulated-host'; then \
		echo "the shipped xvf holds simulator code" >&2; exit 1; fi
	@strip -o .build/release/xvf.stripped .build/release/xvf
	@echo "xvf: $$(stat -c %s .build/release/xvf) bytes, stripped $$(stat -c %s .build/release/xvf.stripped) bytes; no Swift runtime library needed"

## fuzz: every parser user input or the host reaches, under libFuzzer for FUZZ_SECONDS each (default 60).
.PHONY: fuzz
fuzz: deps
	Tests/Fuzz/fuzz.sh

## bench: xvf list --json against lspci on the demo host (dl360) and simulated hosts of 4x7, 16x64 and
## 64x64 PFs x VFs.
bench: release
	python3 Tests/Bench/bench.py .build/release

## install: the binary, shell completions, the man page and the boot unit under $(DESTDIR)$(PREFIX).
## PREFIX=/usr (a package) puts zsh's completion and the unit where Debian's packages put theirs
## (vendor-completions, /usr/lib/systemd/system); any other PREFIX keeps the unit in /etc/systemd/system.
ZSH_COMPLETIONS = $(if $(filter /usr,$(PREFIX)),share/zsh/vendor-completions,share/zsh/site-functions)
UNIT_DIR        = $(if $(filter /usr,$(PREFIX)),/usr/lib/systemd/system,/etc/systemd/system)
UDEV_DIR        = $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
install: release
	install -D -m 0755 .build/release/xvf $(DESTDIR)$(PREFIX)/bin/xvf
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/$(ZSH_COMPLETIONS) \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/share/man/man1
	.build/release/xvf --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/xvf
	.build/release/xvf --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/$(ZSH_COMPLETIONS)/_xvf
	.build/release/xvf --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/xvf.fish
	mkdir -p .build/manual
	@# The plugin builds xvf to ask it for its help; in debug, so that it does not overwrite (with -O and a
	@# shared Swift runtime) the static -Osize .build/release/xvf installed above, nor rebuild it after.
	$(SWIFT) package --allow-writing-to-directory .build/manual generate-manual --configuration debug --output-directory .build/manual
	@# The generator keeps the blank lines of the commands' long help, which mdoc (groff warns) wants as .Pp.
	sed 's/^$$/.Pp/' .build/manual/xvf.1 > $(DESTDIR)$(PREFIX)/share/man/man1/xvf.1
	chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man1/xvf.1
	install -d $(DESTDIR)$(UNIT_DIR) $(DESTDIR)$(UDEV_DIR)
	for unit in xvf-boot.service xvf-guests.service xvf-pf@.service; do \
		sed 's|/usr/local/bin/xvf|$(PREFIX)/bin/xvf|g' xlcfg/$$unit > $(DESTDIR)$(UNIT_DIR)/$$unit; \
	done
	install -m 0644 xlcfg/90-xvf-pf.rules $(DESTDIR)$(UDEV_DIR)/90-xvf-pf.rules

## deb: one package of the release binary for Debian 12 and 13 and Ubuntu 24.04 and 26.04 dom0s,
## .build/deb/xvf_VERSION_ARCH.deb: `make install PREFIX=/usr` into a staging root, the xlcfg/ examples in
## /usr/share/doc/xvf/examples, the version from `xvf --version`. dpkg-shlibdeps computes Depends from the
## symbol versions the binary uses (libc6, libgcc-s1; libstdc++ is linked in); libc6's is the newest
## GLIBC_ symbol version the binary asks for (`objdump -T`: 2.36 when built on Debian 12, from the Swift
## runtime's arc4random), or dpkg-shlibdeps' answer if that is higher, so that dpkg refuses a system whose
## glibc would stop the binary at start-up. libpci3
## is loaded at its first use (dlopen), so DEB_DEPENDS names it: 3.8, whose pci_fill_info xvf is built
## and run with on bookworm. Xen's libraries are Recommends, one package per Xen release and name (Ubuntu
## 24.04's is libxenmisc4.17t64), since xvf loads whichever is installed (dlopen); were one linked, a libxen* with one soname on both releases
## would lose the build host's exact version, which Debian's shlibs files pin, and libxenmisc4.NN would
## move to the Recommends. xlcfg/debian holds what dpkg and Debian's policy want besides the files: the
## copyright (DEP-5) and the maintainer scripts, which reload systemd and udev and start nothing.
DEB_DIR        := .build/deb
DEB_DEPENDS    := libpci3 (>= 1:3.8.0)
DEB_RECOMMENDS := libxenmisc4.20 | libxenmisc4.17 | libxenmisc4.17t64, iproute2, kmod
DEB_SUGGESTS   := xen-utils-4.17 | xen-utils-4.20
# The sub-make reads this Makefile also when run as `make -f …/Makefile -C OTHER-CHECKOUT deb` (the lab).
THIS_MAKEFILE  := $(abspath $(firstword $(MAKEFILE_LIST)))
# The packaging files beside this Makefile: the lab may package an older checkout, which has none, with it.
DEB_FILES      := $(dir $(THIS_MAKEFILE))xlcfg/debian
DEB_MAINTAINER ?= $(shell git config user.name 2>/dev/null || echo xvf) <$(shell git config user.email 2>/dev/null || echo root@localhost)>
.PHONY: deb
deb: release
	@command -v dpkg-shlibdeps >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >/dev/null; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/root/DEBIAN $(DEB_DIR)/debian
	$(MAKE) --no-print-directory -f $(THIS_MAKEFILE) install DESTDIR=$(abspath $(DEB_DIR)/root) PREFIX=/usr
	install -d $(DEB_DIR)/root/usr/share/doc/xvf/examples
	install -m 0644 xlcfg/*.cfg xlcfg/README.md $(DEB_DIR)/root/usr/share/doc/xvf/examples/
	install -m 0644 $(DEB_FILES)/copyright $(DEB_DIR)/root/usr/share/doc/xvf/copyright
	install -m 0755 $(DEB_FILES)/postinst $(DEB_FILES)/prerm $(DEB_FILES)/postrm $(DEB_DIR)/root/DEBIAN/
	gzip -9n $(DEB_DIR)/root/usr/share/man/man1/xvf.1
	@# Debian's packages ship stripped binaries (as dh_strip strips them), and bash-completion files
	@# without a #! line.
	strip --remove-section=.comment --remove-section=.note --strip-unneeded $(DEB_DIR)/root/usr/bin/xvf
	sed -i '1{/^#!/d}' $(DEB_DIR)/root/usr/share/bash-completion/completions/xvf
	chmod -R u=rwX,go=rX $(DEB_DIR)/root
	@# dpkg-shlibdeps wants a debian/control to read; it only needs the package's name from it.
	printf 'Source: xvf\n\nPackage: xvf\nArchitecture: any\n' > $(DEB_DIR)/debian/control
	cd $(DEB_DIR) && dpkg-shlibdeps -O root/usr/bin/xvf > shlibs.substvars
	@set -e; cd $(DEB_DIR); \
	version=$$(root/usr/bin/xvf --version | awk '$$1 == "xvf" { print $$2; exit }'); \
	[ -n "$$version" ] || { echo "xvf --version printed no version" >&2; exit 1; }; \
	arch=$$(dpkg --print-architecture); \
	floor=$$(objdump -T root/usr/bin/xvf | grep -o 'GLIBC_[0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -1); \
	[ -n "$$floor" ] || { echo "xvf asks for no GLIBC_ symbol version" >&2; exit 1; }; \
	shlibs_libc=$$(sed -n 's/^shlibs:Depends=//p' shlibs.substvars | tr ',' '\n' | sed -n 's/^ *libc6 (>= \(.*\))$$/\1/p'); \
	if [ -n "$$shlibs_libc" ] && dpkg --compare-versions "$$shlibs_libc" gt "$$floor"; then floor=$$shlibs_libc; fi; \
	depends=$$(sed -n 's/^shlibs:Depends=//p' shlibs.substvars | tr ',' '\n' | sed 's/^ *//' | \
		grep -v '^libxenmisc' | grep -v '^libc6\( \|$$\)' | sed 's/^\(libxen[a-z0-9]*\) (.*)$$/\1/' | paste -sd, - | sed 's/,/, /g'); \
	depends="libc6 (>= $$floor)$${depends:+, $$depends}, $(DEB_DEPENDS)"; \
	{ \
		echo "xvf ($$version) unstable; urgency=medium"; echo; \
		echo "  * Built from $$(git describe --always --dirty 2>/dev/null || echo 'a tree outside git')."; echo; \
		echo " -- $(DEB_MAINTAINER)  $$(date -R)"; \
	} | gzip -9n > root/usr/share/doc/xvf/changelog.gz; \
	(cd root && find usr -type f -print0 | sort -z | xargs -0 md5sum) > root/DEBIAN/md5sums; \
	{ \
		echo "Package: xvf"; \
		echo "Version: $$version"; \
		echo "Architecture: $$arch"; \
		echo "Maintainer: $(DEB_MAINTAINER)"; \
		echo "Installed-Size: $$(du -sk --exclude=DEBIAN root | cut -f1)"; \
		echo "Depends: $$depends"; \
		echo "Recommends: $(DEB_RECOMMENDS)"; \
		echo "Suggests: $(DEB_SUGGESTS)"; \
		echo "Section: admin"; \
		echo "Priority: optional"; \
		echo "Description: SR-IOV virtual functions and PCI passthrough on Xen hosts"; \
		echo " xvf lists the SR-IOV PFs and VFs of a Xen dom0 with their holders, sets VF"; \
		echo " counts, hands VFs to xen-pciback and attaches them to domains through libxl,"; \
		echo " writes the xen-pciback.hide boot line and edits domU pci = [ ... ] lines."; \
		echo " xvf-boot.service applies /etc/xen/xvf.cfg at boot before xendomains."; \
	} > root/DEBIAN/control; \
	dpkg-deb --root-owner-group --build root xvf_$${version}_$${arch}.deb

## lab: xvf end to end on real Xen hosts, one after the other: QEMU (TCG) with two SR-IOV NICs booting
## cached dom0 images (/var/cache/xvf-lab) of Debian 12 with Xen 4.17 and Debian 13 with Xen 4.20; the
## `make deb` package installed in each, then Tests/Lab/scenario.sh checked against xl, lspci and sysfs.
## XVF_LAB_DOM0S="bookworm" (or "trixie") runs one.
.PHONY: lab
lab:
	Tests/Lab/lab.sh

clean:
	rm -rf .build $(DEMO_ROOT)
