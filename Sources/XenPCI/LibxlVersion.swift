import SRIOV

/// Which libxenlight this process runs against, from the file name the loader mapped
/// (`…/libxenlight.so.4.17.0` → "4.17.0"). Debian pins the soname to the Xen release, so this is also the
/// release xvf was built against; it needs no hypervisor, unlike `libxl_get_version_info`.
public enum LibxlVersion {
    public static var current: String? {
        // The process's own mappings, not host state: always the real /proc. Scanned as bytes, since
        // every command's start-up pays for it.
        guard let maps = HostRoot("/").readFile("proc/self/maps") else { return nil }
        let needle = Array("/libxenlight.so.".utf8)
        guard let start = maps.indices.first(where: { i in
            i + needle.count <= maps.count && maps[i] == needle[0] && Array(maps[i..<i + needle.count]) == needle
        }) else { return nil }
        let versionStart = start + needle.count
        let versionEnd = maps[versionStart...].firstIndex(of: UInt8(ascii: "\n")) ?? maps.endIndex
        return String(decoding: maps[versionStart..<versionEnd], as: UTF8.self)
    }
}
