import Foundation
import SRIOV
import SimXen
import Testing
import TestSupport
import XVFKit

/// What dom0 depends on is read once a command: `assignable add eno49/*` or a guest's pool VFs do not
/// read the mounts and route tables again for every device.
@Suite struct HostSafetyTests {
    @Test func theReadingIsKeptAcrossTheCommandsReadingsOfTheHost() throws {
        let root = simulatedHost()
        let host = try XVFKit.Host(rootPath: root, backends: .simulated)
        let eno49 = try PCIAddress(parsing: "0000:04:00.0")
        #expect(try host.safety().reason(for: eno49) == nil)
        // The default route moves to eno49 after the first reading.
        try "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
            .appending("eno49\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n")
            .write(toFile: root + "/proc/net/route", atomically: false, encoding: .utf8)
        host.reload()
        #expect(try host.safety().reason(for: eno49) == nil)
        // The next command reads it anew.
        let next = try XVFKit.Host(rootPath: root, backends: .simulated)
        #expect(try next.safety().reason(for: eno49) == "has eno49, which carries the default route")
    }
}
