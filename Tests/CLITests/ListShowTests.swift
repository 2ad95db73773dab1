import Foundation
import SimHost
import Testing
import TestSupport

/// `xvf list` and `xvf show` as a user runs them: exact output, exit codes, one-line errors.
@Suite struct ListShowTests {
    func smallHost() -> String { simulatedHost(.large(pfs: 1, vfsPerPF: 2)) }

    @Test func listTableIsGroupedByPF() throws {
        let result = try xvf(["--root", smallHost(), "list"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(result.stdout == """
            0000:10:00.0  ens0f0  mlx5_core  VFs 2/2  MT27800 Family [ConnectX-5]
              VF  BDF           IFACE     DRIVER     MAC                IOMMU  HOLDER
               0  0000:10:00.1  ens0f0v0  mlx5_core  02:00:10:00:01:00      2  dom0:mlx5_core
               1  0000:10:00.2  ens0f0v1  mlx5_core  02:00:10:00:02:01      3  dom0:mlx5_core

            """)
    }

    /// A PF's SR-IOV state is one thing in both documents: `show --json` has every key `list --json` has,
    /// with the same values (the demo's eno50 has autoprobe off).
    @Test func showAndListGiveAPFsSRIOVStateAlike() throws {
        let root = simulatedHost()
        let list = try JSONSerialization.jsonObject(with: Data(xvf(["--root", root, "list", "--json"]).stdout.utf8)) as? [String: Any]
        let listed = (list?["pfs"] as? [[String: Any]])?.first { $0["ifname"] as? String == "eno50" }
        let shown = try JSONSerialization.jsonObject(with: Data(xvf(["--root", root, "show", "eno50", "--json"]).stdout.utf8))
            as? [String: Any]
        let keys = ["totalvfs", "numvfs", "vf_offset", "vf_stride", "vf_device", "drivers_autoprobe"]
        #expect(keys.map { "\(listed?[$0] ?? "missing")" } == ["7", "7", "128", "4", "1520", "0"])
        #expect(keys.map { "\(shown?[$0] ?? "missing")" } == keys.map { "\(listed?[$0] ?? "missing")" })
    }

    @Test func listJSONIsTheDocumentedSchema() throws {
        let result = try xvf(["list", "--json", "--root", smallHost()])
        #expect(result.status == 0)
        #expect(result.stdout == #"""
            {"pfs":[{"bdf":"0000:10:00.0","ifname":"ens0f0","driver":"mlx5_core","mac":"b8:59:9f:00:00:00","vendor":"15b3","device":"1017","name":"MT27800 Family [ConnectX-5]","numa_node":0,"totalvfs":2,"numvfs":2,"vf_offset":1,"vf_stride":1,"vf_device":"1018","drivers_autoprobe":true,"ids":"15b3:1017:15b3:0000","serial":"b8-59-9f-ff-ff-00-00-00","permanent_mac":"b8:59:9f:00:00:00","vfs":[{"index":0,"bdf":"0000:10:00.1","ifname":"ens0f0v0","driver":"mlx5_core","mac":"02:00:10:00:01:00","iommu_group":2,"holder":"dom0:mlx5_core","lease":null},{"index":1,"bdf":"0000:10:00.2","ifname":"ens0f0v1","driver":"mlx5_core","mac":"02:00:10:00:02:01","iommu_group":3,"holder":"dom0:mlx5_core","lease":null}]}]}

            """#)
    }

    @Test func listOfTheDemoHostShowsEveryHolderKind() throws {
        let result = try xvf(["--root", simulatedHost(), "list"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("0000:04:00.1  eno50  igb  VFs 7/7  autoprobe off") })
        #expect(lines.contains { $0.contains("0000:04:10.0") && $0.hasSuffix("pciback") })
        #expect(lines.contains { $0.contains("0000:04:11.0") && $0.contains("eno49v2") && $0.hasSuffix("dom0:igbvf") })
        #expect(lines.contains { $0.contains("0000:04:10.1") && $0.hasSuffix("none") })
        #expect(lines.contains("0000:04:00.3  eno52  igb  VFs 0/7  I350 Gigabit Network Connection"))
        #expect(!lines.contains { $0.contains("eno1 ") }, "the tg3 ports have no SR-IOV")
    }

    @Test func showAPFWithCapabilityAndACS() throws {
        let result = try xvf(["--root", smallHost(), "show", "ens0f0"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            0000:10:00.0  ens0f0  (SR-IOV PF)
              name         Mellanox Technologies MT27800 Family [ConnectX-5] [15b3:1017]
              driver       mlx5_core
              interface    ens0f0  b8:59:9f:00:00:00
              holder       dom0:mlx5_core
              iommu group  1
              numa node    0
              sr-iov       2 of 2 VFs, offset 0x1, stride 1, VF device 15b3:1018, drivers autoprobe on
              sr-iov cap   at 0x160: TotalVFs 2, NumVFs 2, offset 0x1, stride 1, VF Enable on, ARI
              upstream     0000:00:01.0  no ACS
              vf 0         0000:10:00.1  ens0f0v0  dom0:mlx5_core
              vf 1         0000:10:00.2  ens0f0v1  dom0:mlx5_core

            """)
    }

    @Test func showAVFByNameOnTheDemoHost() throws {
        let root = simulatedHost()
        let byName = try xvf(["--root", root, "show", "eno49/1"])
        let byAddress = try xvf(["--root", root, "show", "04:10.4"])
        #expect(byName.status == 0)
        #expect(byName.stdout == byAddress.stdout)
        #expect(byName.stdout == """
            0000:04:10.4  (VF 1 of 0000:04:00.0 eno49)
              name         Intel Corporation I350 Ethernet Controller Virtual Function [8086:1520]
              driver       pciback
              holder       pciback
              permissive   no
              iommu group  16
              numa node    0
              upstream     0000:00:03.0  ACS SrcValid ReqRedir CmpltRedir UpstreamFwd (isolating)

            """)
        #expect(byName.stderr == "")
        let json = try xvf(["--root", root, "show", "eno52", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let future = try #require(document["future_vfs"] as? [[String: Any]])
        #expect(future.map { $0["bdf"] as? String } == ["0000:04:10.3", "0000:04:10.7", "0000:04:11.3", "0000:04:11.7",
                                                        "0000:04:12.3", "0000:04:12.7", "0000:04:13.3"])
    }

    @Test(arguments: [
        (["show", "05:10"], 2, "xvf: '05:10' has no function number; write it as 05:10.0 (BB:DD.F)\n"),
        (["show", "04:00/3"], 2, "xvf: '04:00/3' names PF '04:00', which has no function number; write it as 04:00.0 (BB:DD.F)\n"),
        (["show", "7f:00.0"], 2, "xvf: '0000:7f:00.0' is not a PCI device on this host; `xvf list` shows the devices\n"),
        (["show", "eno1/0"], 2, "xvf: 'eno1/0' names eno1 (0000:03:00.0), which is not SR-IOV capable (no sriov_totalvfs)\n"),
        (["show", "eno49/9"], 2, "xvf: 'eno49/9' names VF 9, but eno49 has 7 VFs (0-6); `xvf vfs eno49 N` changes the count\n"),
        (["show", "eth7"], 2, "xvf: 'eth7' is not a network interface of a PCI device here; `xvf list` shows them\n"),
    ])
    func errorsAreOneLineWithAnExitCode(arguments: [String], status: Int32, message: String) throws {
        let result = try xvf(["--root", simulatedHost()] + arguments)
        #expect(result.status == status)
        #expect(result.stderr == message)
        #expect(result.stdout == "")
    }

    @Test func aRootWithoutPCIBusExitsThree() throws {
        let empty = temporaryDirectory()
        let result = try shippedXVF(["--root", empty, "list"])
        #expect(result.status == 3)
        #expect(result.stderr == "xvf: \(empty)/sys/bus/pci does not exist: is sysfs mounted? (with --root, name a tree that has sys/bus/pci)\n")
    }

    @Test func verboseMayStandBeforeTheCommandAndChangesNoOutput() throws {
        let root = smallHost()
        let plain = try xvf(["--root", root, "list"])
        for arguments in [["-v", "--root", root, "list"], ["--root", root, "--verbose", "list"], ["list", "-v", "--root", root]] {
            let verbose = try xvf(arguments)
            #expect(verbose.status == 0, "\(arguments): \(verbose.stderr)")
            #expect(verbose.stdout == plain.stdout)
            #expect(verbose.stderr == "", "the simulated toolstack has no libxl log to show")
        }
    }

    @Test func usageErrorsExit64() throws {
        let result = try xvf(["list", "--bogus"])
        #expect(result.status == 64)
    }
}
