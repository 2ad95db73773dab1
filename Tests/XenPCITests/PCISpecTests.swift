import SRIOV
import Testing
@testable import XenPCI

@Suite("PCI spec strings")
struct PCISpecTests {
    @Test("canonical forms", arguments: [
        ("05:10.0", "0000:05:10.0"),
        ("0000:05:10.0,permissive=1", "0000:05:10.0,permissive=1"),
        ("5:1.1", "0000:05:01.1"),
        ("0A:1F.7", "0000:0a:1f.7"),
        ("05:10.*@3", "0000:05:10.*@03"),
        ("05:10.0@1f", "0000:05:10.0@1f"),
        ("05:10.0@0x3", "0000:05:10.0@03"),
        ("05:10.0,permissive=yes", "0000:05:10.0,permissive=1"),
        ("05:10.0,permissive=Off", "0000:05:10.0,permissive=0"),
        ("05:10.0,seize=true", "0000:05:10.0,seize=1"),
        ("bdf=36:00.0,vslot=1f,seize=on", "0000:36:00.0@1f,seize=1"),
        ("05:10.0,rdm_policy=relaxed,power_mgmt=1,seize=0,msitranslate=no,permissive=1",
         "0000:05:10.0,permissive=1,msitranslate=0,seize=0,power_mgmt=1,rdm_policy=relaxed"),
        ("name=web-nic", "name=web-nic"),
        ("permissive=1,name=web", "permissive=1,name=web"),
        ("vslot=4,name=web", "vslot=04,name=web"),
        ("ffff:ff:1f.7", "ffff:ff:1f.7"),
    ])
    func canonical(input: String, expected: String) throws {
        let spec = try PCISpec(parsing: input)
        #expect(spec.canonical == expected)
        // The canonical form is a fixed point: it parses back to the same spec.
        #expect(try PCISpec(parsing: spec.canonical) == spec)
    }

    @Test("values are kept")
    func values() throws {
        let spec = try PCISpec(parsing: "0000:04:10.4@02,permissive=yes,msitranslate=0,rdm_policy=strict")
        #expect(spec.address == PCIAddress(bus: 4, device: 0x10, function: 4))
        #expect(spec.vslot == 2)
        #expect(spec.permissive == true)
        #expect(spec.msitranslate == false)
        #expect(spec.seize == nil)
        #expect(spec.rdmPolicy == .strict)
        #expect(spec.allFunctions == false)
        let all = try PCISpec(parsing: "04:10.*")
        #expect(all.allFunctions)
        #expect(all.deviceDescription == "0000:04:10.*")
    }

    /// Every form that crashes libxlutil, is silently misread by it, or is simply wrong, is refused
    /// in Swift with a sentence (and, since the test process survives, without reaching libxlutil).
    @Test("malformed specs are refused", arguments: [
        "", " 05:10.0", "05:10.0 ", "05:10", "05:10.", "05", "05:10.8", "05:20.0", "10000:05:10.0", "0:0:0:0.0",
        "05:10.1trailing", "05:10.0,", ",05:10.0", "05:10.0,,permissive=1", "05:10.0,permissive",
        "05:10.0,permissive=", "05:10.0,permissive=2", "05:10.0,permissive=maybe", "05:10.0,foo=1",
        "05:10.0,rdm_policy=bogus", "name=a,name=b", "05:10.0,bdf=06:00.0", "05:10.0@1f,vslot=2",
        "05:10.0,name=x", "05:10.0@20", "36:00.0@20,seize=1", "bdf=36:00.0,vslot=20,seize=1", "05:10.0@",
        "05:10.0@xyz", "05:10.0@123", "permissive=1", "name=", "name=has space", "name=a=b",
        "name=" + String(repeating: "n", count: 65), "05:10.0,permissive=1,permissive=0", "05:10.é",
        "05:10.0\n", "05:1g.0", "05:10.**", "=1", "bdf=05:10",
    ])
    func malformed(input: String) {
        #expect(throws: InputError.self) { try PCISpec(parsing: input) }
    }

    @Test("errors name the input and say what to write")
    func messages() {
        func message(_ input: String) -> String {
            do {
                _ = try PCISpec(parsing: input)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message("05:10") == "PCI spec '05:10' names device '05:10', which has no function number; write it as 05:10.0 (BB:DD.F)")
        #expect(message("05:10.0,") == "PCI spec '05:10.0,' ends with a comma, which libxlutil would ignore; xvf takes specs "
                + "only as written without it: '05:10.0'")
        #expect(message("05:10.0,permissive=") == "PCI spec '05:10.0,permissive=' has 'permissive=' without a value, which "
                + "libxlutil would read as the default; leave permissive out for the default, or write its value")
        #expect(message("05:10.0,permissive=2").contains("write permissive=1 or permissive=0"))
        #expect(message("05:10.0@20").contains("above the largest guest slot 0x1f"))
        #expect(message("05:10.0,foo=1").contains("unknown key 'foo'"))
        #expect(message("name=a,name=b").contains("gives name twice"))
        #expect(!message("05:10.0\n").contains("\n"))
    }

    @Test("libxlutil reads canonical forms to the same values")
    func libxlutilAgrees() throws {
        for text in ["0000:05:10.0", "0000:05:10.*@03", "0000:05:10.0@1f,permissive=1,msitranslate=0,seize=1,power_mgmt=1,rdm_policy=relaxed",
                     "name=web", "vslot=04,permissive=0,name=web"] {
            let spec = try PCISpec(parsing: text)
            let differences = try LibxlutilSpecReader.withDevice(spec, try XenLibraries.load().functions) { LibxlutilSpecReader.differencesFrom(spec, $0) }.get()
            #expect(differences.isEmpty, "\(text): \(differences)")
        }
    }

    @Test("libxlutil disagreement is detected, not ignored")
    func disagreementDetected() throws {
        // A spec whose values differ from what its canonical string says must show up as differences.
        let spec = try PCISpec(parsing: "0000:05:10.0,permissive=1")
        var other = spec
        other.permissive = false
        other.vslot = 3
        let differences = try LibxlutilSpecReader.withDevice(spec, try XenLibraries.load().functions) { LibxlutilSpecReader.differencesFrom(other, $0) }.get()
        #expect(differences == ["vslot", "permissive"])
    }

    @Test("what libxlutil says when it refuses a string reaches the error")
    func libxlutilWordsAreKept() throws {
        // The report stream is written by xlu_pci_parse_spec_string and read after it: it has to live
        // until xlu_cfg_destroy (withExtendedLifetime), or an optimised build writes to a closed FILE*.
        var spec = try PCISpec(parsing: "name=web")
        spec.name = "web,colour=blue"  // past PCISpec's own check: libxlutil names the unknown key
        for _ in 0..<50 {
            let result = LibxlutilSpecReader.withDevice(spec, try XenLibraries.load().functions) { _ in () }
            guard case .failure(let error) = result else {
                Issue.record("libxlutil took \(spec.canonical)")
                return
            }
            #expect(error.description.contains("is refused by libxlutil"), "\(error)")
            #expect(error.description.contains("colour"), "libxlutil's own words: \(error)")
        }
    }

    @Test("specs built from values are checked too")
    func builtFromValues() throws {
        #expect(throws: InputError.self) { try PCISpec(address: nil) }
        #expect(throws: InputError.self) { try PCISpec(address: PCIAddress(bus: 1, device: 0, function: 0), vslot: 0x20) }
        #expect(throws: InputError.self) {
            try PCISpec(address: PCIAddress(bus: 1, device: 0, function: 0), name: "web")
        }
        let spec = try PCISpec(address: PCIAddress(bus: 1, device: 0x10, function: 2), permissive: true)
        #expect(spec.canonical == "0000:01:10.2,permissive=1")
    }
}
