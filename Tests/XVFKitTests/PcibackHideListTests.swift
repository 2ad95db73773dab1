import SRIOV
import Testing
import TestSupport
@testable import XVFKit

/// The hide-list parser must refuse what the kernel refuses: one bad entry stops xen-pciback loading.
@Suite struct PcibackHideListTests {
    @Test func acceptsWhatPciStubAccepts() throws {
        let entries = try PcibackHideList.parse(" (0000:04:10.0) (04:10.4)(0001:81:1f.*)(82:*.*) ")
        #expect(entries == [
            .init(domain: 0, bus: 4, slot: 0x10, function: 0),
            .init(domain: 0, bus: 4, slot: 0x10, function: 4),
            .init(domain: 1, bus: 0x81, slot: 0x1f, function: nil),
            .init(domain: 0, bus: 0x82, slot: nil, function: nil),
        ])
    }

    @Test("refuses what would stop the module loading", arguments: [
        ("(04:10)", XVFError.Code.hideEntry("04:10", in: "(04:10)", why: "has no '.F' function part")),
        ("(04:20.0)", .hideEntry("04:20.0", in: "(04:20.0)", why: "has slot 0x20 above 0x1f")),
        ("(04:10.8)", .hideEntry("04:10.8", in: "(04:10.8)", why: "has function 0x8 above 0x7")),
        ("04:10.0", .hideListMalformed("04:10.0", at: "04:10.0")),
        ("(04:10.0", .hideListMalformed("(04:10.0", at: "(04:10.0")),
        ("(04:10.0)x", .hideListMalformed("(04:10.0)x", at: "x")),
        ("(04:*.1)", .hideEntry("04:*.1", in: "(04:*.1)", why: "has a wildcard slot but a fixed function (write *.*)")),
        ("(0:0:04:10.0)", .hideEntry("0:0:04:10.0", in: "(0:0:04:10.0)", why: "is not (DDDD:BB:DD.F) or (BB:DD.F)")),
        ("(10000:04:10.0)", .hideEntry("10000:04:10.0", in: "(10000:04:10.0)", why: "has domain 0x10000 above 0xffff")),
        ("(04:10.0),(04:10.4)", .hideListMalformed("(04:10.0),(04:10.4)", at: ",(04:10.4)")),
    ])
    func refuses(text: String, code: XVFError.Code) {
        let error = thrown(XVFError.self) { try PcibackHideList.parse(text) }
        #expect(error?.code == code)
        #expect(error?.exitCode == 2)
    }

    @Test func formatsWholeSlotsAsWildcards() throws {
        let slot = (0..<8).map { PCIAddress(bus: 4, device: 0x10, function: UInt8($0)) }
        let text = PcibackHideList.format(slot + [PCIAddress(bus: 4, device: 0x11, function: 0), slot[3]])
        #expect(text == "(0000:04:10.*)(0000:04:11.0)")
        #expect(try PcibackHideList.parse(text).count == 2)
    }
}
