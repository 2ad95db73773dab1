import Foundation
import Testing
import TestSupport

/// VF ranges are checked against the PF's VFs before a list of indices is built: a range as wide as Int
/// once trapped (Array(0...Int.max)) or allocated gigabytes. The demo's eno49 has 7 VFs of 7.
@Suite struct VFRangeBoundsTests {
    @Test("a huge VF range is refused in one line, quickly", arguments: [
        (["show", "eno49/0-9223372036854775807"],
         "'eno49/0-9223372036854775807' names VF 7, but eno49 has 7 VFs (0-6); `xvf vfs eno49 N` changes the count"),
        (["show", "eno49/3-100000000"], "'eno49/3-100000000' names VF 7, but eno49 has 7 VFs (0-6); `xvf vfs eno49 N` changes the count"),
        (["bootline", "eno49/0-9223372036854775807"], "'eno49/0-9223372036854775807' names VF 7, but eno49 can have 7 VFs (sriov_totalvfs)"),
        (["assignable", "add", "eno49/9-9223372036854775807"],
         "'eno49/9-9223372036854775807' names VF 9, but eno49 has 7 VFs (0-6); `xvf vfs eno49 N` changes the count"),
    ])
    func refused(arguments: [String], message: String) throws {
        try expectRefusal(arguments, status: 2, message: message)
    }

    @Test func aHugeRangeInTheHostConfigIsALineError() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "vf = [ 'eno49/2-9223372036854775807,trust=on' ]\n"
            .write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "boot", "--dry-run"])
        #expect(result.status == 2)
        // Not "add sriov = [ 'eno49,vfs=8' ]": 7 is all eno49 can have.
        #expect(result.stderr == "xvf: \(root)/etc/xen/xvf.cfg:1: vf 'eno49/2-9223372036854775807,trust=on': VF 7 is beyond "
                + "the 7 VFs eno49 (0000:04:00.0) can have (sriov_totalvfs); use VFs 0-6\n")
        #expect(result.stdout == "")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }
}
