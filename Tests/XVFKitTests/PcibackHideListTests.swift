import SRIOV
import Testing
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
        "(04:10)", "(04:20.0)", "(04:10.8)", "04:10.0", "(04:10.0", "(04:10.0)x", "(04:*.1)", "(0:0:04:10.0)",
        "(10000:04:10.0)", "(04:10.0),(04:10.4)",
    ])
    func refuses(text: String) {
        #expect(throws: XVFError.self) { try PcibackHideList.parse(text) }
    }

    @Test func formatsWholeSlotsAsWildcards() throws {
        let slot = (0..<8).map { PCIAddress(bus: 4, device: 0x10, function: UInt8($0)) }
        let text = PcibackHideList.format(slot + [PCIAddress(bus: 4, device: 0x11, function: 0), slot[3]])
        #expect(text == "(0000:04:10.*)(0000:04:11.0)")
        #expect(try PcibackHideList.parse(text).count == 2)
    }
}
