import SRIOV
import Testing

@Suite struct PCIAddressTests {
    @Test(arguments: [
        ("05:10.0", "0000:05:10.0"),
        ("0000:05:10.0", "0000:05:10.0"),
        ("0A:1F.7", "0000:0a:1f.7"),
        ("5:1.1", "0000:05:01.1"),
        ("ffff:ff:1f.7", "ffff:ff:1f.7"),
        ("10:00.3", "0000:10:00.3"),
    ])
    func parsesAndFormatsInFullLowerCase(input: String, expected: String) throws {
        #expect(try PCIAddress(parsing: input).description == expected)
    }

    @Test(arguments: [
        ("", "is empty"),
        ("05:10", "has no function number; write it as 05:10.0"),
        ("05:20.0", "has device 0x20 above the limit 0x1f"),
        ("05:10.8", "has function 0x8 above the limit 0x7"),
        ("10000:05:10.0", "has a domain '10000' longer than 4 hex digits"),
        ("05:1g.0", "has a non-hexadecimal device '1g'"),
        ("05:10.0x", "has a non-hexadecimal function '0x'"),
        ("05:10.0 ", "has a non-hexadecimal function '0 '"),
        ("0:0:0:0.0", "is not a PCI address"),
        ("05:10.0.1", "has more than one '.'"),
        (":10.0", "has an empty bus field"),
        ("eno49", "is not a PCI address"),
    ])
    func rejectsWithAPreciseMessage(input: String, reason: String) {
        #expect {
            try PCIAddress(parsing: input)
        } throws: { error in
            guard let error = error as? InputError, error.kind == .address else { return false }
            return error.input == input && error.reason.hasPrefix(reason)
        }
    }

    @Test func routingIDArithmeticCrossesBuses() throws {
        let pf = try PCIAddress(parsing: "0000:81:00.0")
        #expect(pf.routingID == 0x8100)
        #expect(pf.advanced(byRoutingID: 0x80)?.description == "0000:81:10.0")
        #expect(pf.advanced(byRoutingID: 0x100)?.description == "0000:82:00.0")
        #expect(try PCIAddress(parsing: "ff:1f.7").advanced(byRoutingID: 1) == nil)
    }

    @Test func ordersByDomainThenRoutingID() throws {
        let addresses = try ["0001:00:00.0", "0000:05:10.0", "0000:04:11.0", "0000:04:10.4"].map(PCIAddress.init(parsing:))
        #expect(addresses.sorted().map(\.description) == ["0000:04:10.4", "0000:04:11.0", "0000:05:10.0", "0001:00:00.0"])
    }
}

@Suite struct DeviceNameTests {
    @Test func parsesEveryForm() throws {
        #expect(try DeviceName(parsing: "05:10.0") == .address(PCIAddress(parsing: "05:10.0")))
        #expect(try DeviceName(parsing: "eno49") == .interface("eno49"))
        #expect(try DeviceName(parsing: "eno49/3") == .virtualFunctions(of: .interface("eno49"), .index(3)))
        #expect(try DeviceName(parsing: "eno49/0-6") == .virtualFunctions(of: .interface("eno49"), .range(0...6)))
        #expect(try DeviceName(parsing: "eno49/*") == .virtualFunctions(of: .interface("eno49"), .all))
        #expect(try DeviceName(parsing: "0000:04:00.0/2")
                == .virtualFunctions(of: .address(PCIAddress(parsing: "04:00.0")), .index(2)))
        #expect(try DeviceName(parsing: "eno49/*").isList)
        #expect(try !DeviceName(parsing: "eno49/0").isList)
    }

    @Test(arguments: ["", "eno49/", "eno49/x", "eno49/6-2", "eno49/-1", "/3", "averyveryverylongname", "05:10/1"])
    func rejectsMalformedNames(input: String) {
        #expect { try DeviceName(parsing: input) } throws: { ($0 as? InputError)?.kind == .deviceName }
    }

    /// Each refused input is one line naming it once, with control characters shown escaped.
    @Test(arguments: [
        ("04:00/3", "'04:00/3' names PF '04:00', which has no function number; write it as 04:00.0 (BB:DD.F)"),
        ("05:10\n.0", "'05:10\\n.0' has a non-hexadecimal device '10\\n'"),
        ("eno\u{1B}49", "'eno\\u{1B}49' is neither a PCI address (05:10.0) nor an interface name (eno49)"),
    ])
    func refusalsAreOneLine(input: String, message: String) {
        #expect { try DeviceName(parsing: input) } throws: { ($0 as? InputError)?.description == message }
    }
}
