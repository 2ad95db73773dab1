import SRIOV

/// Which libxenlight this process runs against, from the file name the loader mapped
/// (`…/libxenlight.so.4.17.0` → "4.17.0"). Debian pins the soname to the Xen release, so this is also the
/// release xvf was built against; it needs no hypervisor, unlike `libxl_get_version_info`.
public enum LibxlVersion {
    public static var current: String? {
        // The process's own mappings, not host state: always the real /proc.
        guard let maps = HostRoot("/").readFile("proc/self/maps") else { return nil }
        for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") {
            guard let slash = line.lastIndex(of: "/") else { continue }
            let file = line[line.index(after: slash)...]
            if file.hasPrefix("libxenlight.so.") { return String(file.dropFirst("libxenlight.so.".count)) }
        }
        return nil
    }
}
