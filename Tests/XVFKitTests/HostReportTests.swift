import Foundation
import SRIOV
import SimHost
import SimXen
import Testing
import TestSupport
import XenPCI
import XVFKit

@Suite struct HostReportTests {
    @Test func jsonCarriesEveryFieldOfTheSchemaInOrder() throws {
        let path = temporaryDirectory("report")
        SimulatedHost.build(.dl360(), at: path)
        let host = try Host(rootPath: path, backends: .simulated)
        let report = HostReport(try host.inventory(), library: host.library,
                                holders: [try PCIAddress(parsing: "04:10.4"): XenDomain(id: 3, name: "web1", kind: .pv)])
        let data = Data(report.json.serialized().utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pfs = try #require(document["pfs"] as? [[String: Any]])
        #expect(pfs.count == 6)
        let pf = pfs[0]
        for key in ["bdf", "ifname", "driver", "vendor", "device", "name", "totalvfs", "numvfs", "vfs"] {
            #expect(pf[key] != nil, "PF field \(key)")
        }
        #expect(pf["bdf"] as? String == "0000:04:00.0")
        #expect(pf["vendor"] as? String == "8086" && pf["device"] as? String == "1521")
        #expect(pf["name"] as? String == "I350 Gigabit Network Connection")
        let vfs = try #require(pf["vfs"] as? [[String: Any]])
        #expect(vfs.count == 7)
        for key in ["index", "bdf", "ifname", "driver", "mac", "iommu_group", "holder"] {
            #expect(vfs[2][key] != nil, "VF field \(key)")
        }
        #expect(vfs.map { $0["holder"] as? String } == ["pciback", "domain:3", "dom0:igbvf", "dom0:igbvf",
                                                        "dom0:igbvf", "dom0:igbvf", "dom0:igbvf"])
        #expect(vfs[1]["domain_name"] as? String == "web1")
        #expect(vfs[0]["ifname"] is NSNull, "no interface is null, not a missing key")
        // Field order is part of the interface.
        let text = report.json.serialized()
        #expect(text.hasPrefix(#"{"pfs":[{"bdf":"0000:04:00.0","ifname":"eno49","driver":"igb""#))
    }

    // Numbers are written digit by digit and plain strings copied whole: both edges, and what needs escaping.
    @Test func jsonWritesNumbersAndEscapesAsJSONReadsThem() throws {
        let value = JSON.object([
            ("numbers", .array([.int(0), .int(7), .int(-1), .int(1_000_000), .int(Int.max), .int(Int.min)])),
            ("plain", .string("eno49/2")), ("quoted", .string("a \"b\" c\\d\n\u{1}")), ("none", .null),
        ])
        let text = value.serialized()
        #expect(text == #"{"numbers":[0,7,-1,1000000,9223372036854775807,-9223372036854775808],"#
                + #""plain":"eno49/2","quoted":"a \"b\" c\\d\n\u0001","none":null}"#)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["quoted"] as? String == "a \"b\" c\\d\n\u{1}")
    }
}
