import XenPCI

/// XSA-476 (CVE-2025-58149): libxl truncated a device's 64-bit BAR addresses when it removed the device
/// from a guest, so the permissions Xen had given the guest over those BARs were not revoked and the guest
/// kept access to the device's memory. VF BARs are usually 64-bit, and `xvf release` removes devices.
/// Fixed on each stable branch on 2025-10-24 ("tools/libs/light: fix BAR memory address truncation"),
/// released in 4.17.6, 4.18.6, 4.19.4, 4.20.2 and 4.21.0.
enum XSA476 {
    /// Per release: the first point release with the fix, and where on the stable branch the fix commit
    /// sits (`git describe`: the tag before it and the commits after that tag), so that a distribution's
    /// build of the branch between tags (Debian's `4.17.5+72-g…`) is judged by what it contains.
    static let fixes: [String: (release: String, afterTag: Int, commits: Int)] = [
        "4.17": ("4.17.6", 5, 66), // RELEASE-4.17.5-66-g14b0ce5768
        "4.18": ("4.18.6", 5, 29), // RELEASE-4.18.5-29-g832ecbff8e
        "4.19": ("4.19.4", 3, 33), // RELEASE-4.19.3-33-g20cda53ff1
        "4.20": ("4.20.2", 1, 53), // RELEASE-4.20.1-53-gff9de4517a
    ]

    enum Verdict: Equatable {
        /// The fix is in (or the release came after it: 4.21 and later).
        case fixed
        /// The version is known and lacks the fix: upgrade to `upgradeTo` or later.
        case affected(upgradeTo: String)
        /// The release had affected point releases and xvf cannot tell which one this is.
        case unknown(fixedIn: String)
    }

    static func verdict(release: String, version: LibxlVersion?) -> Verdict {
        guard let fix = fixes[release] else { return .fixed }
        guard let version, version.release == release else { return .unknown(fixedIn: fix.release) }
        if version.point > fix.afterTag || (version.point == fix.afterTag && version.commitsAfterTag >= fix.commits) {
            return .fixed
        }
        return .affected(upgradeTo: fix.release)
    }

    static let what = "truncates 64-bit BAR addresses when it removes a device from a guest, so the guest keeps "
        + "access to the device's memory (XSA-476, CVE-2025-58149)"

    /// The warning `xvf release` prints (once) before it removes a device with an affected libxl.
    static func warning(_ toolstack: any Toolstack) -> String? {
        guard case .affected(let fixed) = verdict(release: toolstack.libxlRelease, version: toolstack.libxlVersion),
              let version = toolstack.libxlVersion else { return nil }
        return "libxl \(version) \(what); upgrade the package with libxenlight.so.\(version.release) to \(fixed) or later"
    }

}
