import Testing
@testable import XenPCI

/// libxl's full version as dpkg's status and a Nix store path give it.
@Suite struct LibxlVersionTests {
    static let status = """
        Package: libxenmisc4.17t64
        Status: install ok installed
        Priority: optional
        Version: 4.17.3+10-g091466ba55-1.1ubuntu3
        Description: Xen runtime libraries - miscellaneous, versioned ABI
         Version: 9.9.9 in a description line is not the version

        Package: libxenmisc4.20
        Status: deinstall ok config-files
        Version: 4.20.2+7-g1badcf5035-2build2

        Package: libxenmisc4.22
        Status: install ok installed
        Version: 1:4.22.0-1

        """

    @Test func theUpstreamPartIsRead() {
        #expect(LibxlVersion("4.17.7+13-g2445b30a44-0+deb12u1") == LibxlVersion(major: 4, minor: 17, point: 7, commitsAfterTag: 13))
        #expect(LibxlVersion("4.21.0_04")?.description == "4.21.0")
        #expect(LibxlVersion("4.20.2") == LibxlVersion(major: 4, minor: 20, point: 2))
        #expect(LibxlVersion("4.20") == nil)
        #expect(LibxlVersion("xen-4.20.2") == nil)
    }

    @Test func dpkgsInstalledPackageOfTheReleaseCounts() {
        #expect(LibxlVersion.dpkg(release: "4.17", status: Self.status)?.description == "4.17.3+10")
        #expect(LibxlVersion.dpkg(release: "4.20", status: Self.status) == nil, "removed, only its config files left")
        #expect(LibxlVersion.dpkg(release: "4.22", status: Self.status)?.description == "4.22.0", "an epoch")
        #expect(LibxlVersion.dpkg(release: "4.19", status: Self.status) == nil)
    }

    @Test func aNixStorePathCarriesTheVersion() {
        #expect(LibxlVersion.path("/nix/store/8m3pa1yd7q9hsd2l6m0k-xen-4.20.2/lib/libxenlight.so.4.20.0", release: "4.20")
                == LibxlVersion(major: 4, minor: 20, point: 2))
        #expect(LibxlVersion.path("/usr/lib/x86_64-linux-gnu/libxenlight.so.4.17.0", release: "4.17") == nil)
        #expect(LibxlVersion.path("/nix/store/abc-xen-4.19.1/lib/libxenlight.so.4.20.0", release: "4.20") == nil)
    }
}
