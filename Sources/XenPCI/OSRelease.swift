import SRIOV

/// The distribution a root holds, as os-release(5) names it: `etc/os-release`, else `usr/lib/os-release`.
/// Only what xvf says depends on it (which package to install), never what it does.
public struct OSRelease: Equatable, Sendable {
    /// `ID`: lower case, no spaces (`debian`, `ubuntu`, `fedora`, `opensuse-tumbleweed`, `alpine`); empty
    /// when the file is missing or does not say.
    public var id: String
    /// `VERSION_ID` (`12`, `24.04`); rolling releases have none.
    public var versionID: String?
    /// `ID_LIKE`: the distributions this one derives from.
    public var like: [String]
    /// `NAME` (`openSUSE Tumbleweed`).
    public var name: String?

    public init(_ root: HostRoot) {
        self.init(text: root.readText("etc/os-release") ?? root.readText("usr/lib/os-release") ?? "")
    }

    /// The variables of an os-release file: `KEY=value`, the value optionally in single or double quotes.
    public init(text: String) {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = Substring(line[line.index(after: equals)...].trimming())
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            }
            values[line[..<equals].trimming()] = String(value)
        }
        id = values["ID"] ?? ""
        versionID = values["VERSION_ID"]
        like = (values["ID_LIKE"] ?? "").split(separator: " ").map(String.init)
        name = values["NAME"]
    }

    /// Whether this distribution is `other` or says it derives from it (`ID_LIKE`).
    public func isLike(_ other: String) -> Bool {
        id == other || like.contains(other)
    }
}
