import Foundation
import Testing

/// The systemd units the package installs, as xlcfg/ holds them.
@Suite struct SystemdUnitTests {
    /// The lines of the unit file `unit`.
    static func lines(of unit: String) throws -> [Substring] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("xlcfg/" + unit).path
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }

    @Test func xvfBootWaitsForTheUdevItPullsIn() throws {
        // After= orders only against units something starts: settle must be wanted as well.
        let lines = try Self.lines(of: "xvf-boot.service")
        func units(_ key: String) -> Set<String> {
            Set(lines.filter { $0.hasPrefix(key + "=") }.flatMap { $0.dropFirst(key.count + 1).split(separator: " ").map(String.init) })
        }
        #expect(units("After").contains("systemd-udev-settle.service"))
        #expect(units("Wants").contains("systemd-udev-settle.service"))
        #expect(units("After").contains("systemd-udev-trigger.service"))
    }
}
