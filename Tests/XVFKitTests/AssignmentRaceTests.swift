import Foundation
import SRIOV
import SimHost
import SimXen
import Testing
@testable import XVFKit

/// `xvf assign` reads the host again under the lock; a VF named on the command line may have gone by
/// then (a concurrent `xvf vfs` removed it). That is a one-line failure, not an index out of range.
@Suite struct AssignmentRaceTests {
    @Test func aVFThatVanishedBeforeTheLockIsReported() throws {
        let path = NSTemporaryDirectory() + "xvf-race-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        SimulatedHost.build(.dl360(), at: path)
        let host = try Host(rootPath: path, backends: .simulated)
        let before = try host.inventory()
        let selection = try Assignment.Selection(AssignRequest(target: "eno49/2", pf: nil, domain: "web1"), host: host)
        // The host as it reads once the VF has gone.
        let vf = try PCIAddress(parsing: "0000:04:11.0")
        let after = HostInventory(root: before.root, devices: before.devices.values.filter { $0.address != vf })
        do {
            let devices = try Assignment.pickDevices(selection, inventory: after, holders: [:])
            Issue.record("picked \(devices.map(\.address)) though \(vf) is gone")
        } catch {
            #expect(error.kind == .failed)
            #expect(error.message.hasPrefix("0000:04:11.0 no longer exists"), "\(error.message)")
        }
    }
}
