#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// Builds a sysfs-shaped host tree from a `SimLayout`: real directories and relative symlinks the way
/// Linux lays them out (`sys/devices/pci0000:00/<port>/<function>`, `sys/bus/pci/devices`,
/// `sys/bus/pci/drivers`, `sys/kernel/iommu_groups`, `sys/class/net`), 4 KiB config spaces, and the
/// `proc` files the safety checks read. The tree's marker file carries the simulated kernel's own state
/// (drivers, interfaces, domains); it is read by the simulator only, never by the shipped `xvf`.
public enum SimulatedHost {
    /// The file at the top of a simulated tree: what the simulated kernel and toolstack know of it, and the
    /// mark that lets the simulator's executable (`xvf-sim xvf`) work on the tree.
    public static let markerFile = "xvf-simulated-host"
    /// What `proc/sys/kernel/osrelease` says on a simulated host.
    public static let kernelRelease = "6.1.0-28-amd64"

    /// Writes the host under `path` (created if missing) and returns its root, wired to the simulated kernel.
    @discardableResult
    public static func build(_ layout: SimLayout, at path: String) -> HostRoot {
        let root = HostRoot(path, attributeWriter: SimulatedKernel())
        let tree = SimTree(root: root)
        SimTree(root: HostRoot("/")).makeDirectory(root.prefix)
        tree.makeDirectory("sys/bus/pci/devices")
        tree.makeDirectory("sys/kernel/iommu_groups")
        tree.makeDirectory("sys/class/net")
        tree.makeDirectory("sys/class/block")
        tree.makeDirectory("sys/module")
        tree.makeDirectory("proc/net")
        tree.makeDirectory("etc/default/grub.d")
        tree.makeDirectory("etc/modprobe.d")
        tree.makeDirectory("run")
        // As on a host where xvf has run since boot: its lock file is there (made once, kept empty), so a
        // refused command leaves the tree byte-identical.
        tree.makeDirectory("run/xvf")
        tree.write("run/xvf/lock", "")
        tree.write("sys/bus/pci/drivers_probe", "")
        tree.write("sys/bus/pci/drivers_autoprobe", "1\n")
        // The boot messages of /dev/kmsg (`priority,sequence,microseconds,-;message`): with too little MMIO
        // space the PCI core cannot place a PF's VF BARs (7 and up) and says so, as Linux 6.1 does.
        var kernelLog = ["6,0,0,-;Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org)"]
        for function in layout.functions where function.sriov?.mmioShortage == true {
            kernelLog.append("6,\(kernelLog.count),412000,-;pci \(function.address): BAR 7: no space for [mem size 0x00100000 64bit pref]")
            kernelLog.append("6,\(kernelLog.count),412010,-;pci \(function.address): BAR 7: failed to assign [mem size 0x00100000 64bit pref]")
        }
        tree.makeDirectory("dev")
        tree.write(SimulatedKernel.kernelLog, kernelLog.joined(separator: "\n") + "\n")

        var marker = ["# xvf simulated host: read by the simulated kernel (SimHost), never present on a real host"]
        for driver in layout.drivers {
            let dir = "sys/bus/pci/drivers/" + driver.name
            tree.makeDirectory(dir)
            for file in ["bind", "unbind", "new_id", "remove_id"] { tree.write(dir + "/" + file, "") }
            if driver.name == PCIDevice.pcibackDriver {
                for file in ["new_slot", "remove_slot", "slots", "permissive", "quirks"] {
                    tree.write(dir + "/" + file, "")
                }
            }
            tree.makeDirectory("sys/module/" + moduleName(driver.name))
            marker.append("driver \(driver.name) \(driver.makesInterfaces ? "net" : "-") "
                          + (driver.ids.isEmpty ? "-" : driver.ids.joined(separator: ",")))
        }
        for function in layout.functions {
            if let interface = function.interface {
                marker.append("interface \(function.address) \(interface) \(function.mac ?? "-")")
            }
            if function.sriov?.mmioShortage == true { marker.append("no-mmio \(function.address)") }
            if let limit = function.sriov?.driverLimit { marker.append("vf-limit \(function.address) \(limit)") }
            if let limit = function.sriov?.silentLimit { marker.append("vf-silent-limit \(function.address) \(limit)") }
        }
        if layout.moduleAliases {
            // The running kernel's alias table, from every module's id table, loaded or not.
            tree.makeDirectory("proc/sys/kernel")
            tree.write("proc/sys/kernel/osrelease", kernelRelease + "\n")
            let aliases = (layout.drivers + layout.unloadedModules).flatMap { driver in
                driver.ids.compactMap { id -> String? in
                    let parts = id.split(separator: ":")
                    guard parts.count == 2 else { return nil }
                    return "alias pci:v0000\(parts[0].uppercased())d0000\(parts[1].uppercased())sv*sd*bc*sc*i* \(driver.name)"
                }
            }
            tree.makeDirectory("lib/modules/\(kernelRelease)")
            tree.write("lib/modules/\(kernelRelease)/modules.alias", aliases.joined(separator: "\n") + "\n")
        }
        marker += layout.domains.map(\.markerLine)
        if !layout.xenIOMMU { marker.append("xen-no-iommu") }
        if !layout.xenHAP { marker.append("xen-no-hap") }
        if !layout.xenShadow { marker.append("xen-no-shadow") }
        tree.write(markerFile, marker.joined(separator: "\n") + "\n")

        let kernel = SimulatedKernel()
        let state = kernel.loadState(root)
        var group = 0
        for port in Set(layout.functions.map(\.port)).sorted() {
            let dir = portDirectory(port)
            tree.makeDirectory(dir)
            writeFunctionFiles(tree, dir: dir, address: port, vendor: 0x8086, device: 0x6f02, classCode: 0x060400,
                               numaNode: 0, config: ConfigSpace.build(vendor: 0x8086, device: 0x6f02,
                                                                      classCode: 0x060400, isBridge: true,
                                                                      acs: layout.portsWithACS.contains(port)))
            tree.link("sys/bus/pci/devices/\(port)", to: dir)
            addToIOMMUGroup(tree, group, device: port, dir: dir)
            group += 1
            if state.drivers["pcieport"] != nil { kernel.attach(port, to: "pcieport", state: state, root: root) }
        }
        for function in layout.functions {
            let dir = portDirectory(function.port) + "/\(function.address)"
            tree.makeDirectory(dir)
            writeFunctionFiles(tree, dir: dir, address: function.address, vendor: function.vendor,
                               device: function.device, classCode: function.classCode, numaNode: function.numaNode,
                               config: ConfigSpace.build(vendor: function.vendor, device: function.device,
                                                         classCode: function.classCode, sriov: function.sriov,
                                                         serial: function.serial))
            tree.link("sys/bus/pci/devices/\(function.address)", to: dir)
            addToIOMMUGroup(tree, group, device: function.address, dir: dir)
            group += 1
            if let sriov = function.sriov {
                tree.write(dir + "/sriov_totalvfs", "\(sriov.totalVFs)\n")
                tree.write(dir + "/sriov_numvfs", "0\n")
                tree.write(dir + "/sriov_offset", "\(sriov.offset)\n")
                tree.write(dir + "/sriov_stride", "\(sriov.stride)\n")
                tree.write(dir + "/sriov_vf_device", hex(sriov.vfDevice, width: 4) + "\n")
                tree.write(dir + "/sriov_drivers_autoprobe", sriov.autoprobe ? "1\n" : "0\n")
            }
            if let driver = function.driver { kernel.attach(function.address, to: driver, state: state, root: root) }
        }
        // VFs come last, created through the kernel's own path so they look exactly like later ones.
        for function in layout.functions {
            guard let sriov = function.sriov, sriov.numVFs > 0 else { continue }
            let base = "sys/bus/pci/devices/\(function.address)"
            do {
                try root.writeAttribute(base + "/sriov_numvfs", "\(sriov.numVFs)")
            } catch {
                preconditionFailure("simulated host: cannot create the VFs of \(function.address): \(error)")
            }
            for (index, driver) in sriov.rebound.sorted(by: { $0.key < $1.key }) {
                guard let vf = sriov.vfAddress(index, pf: function.address) else { continue }
                kernel.detach(vf, state: kernel.loadState(root), root: root)
                if let driver { kernel.attach(vf, to: driver, state: kernel.loadState(root), root: root) }
            }
        }

        if let controller = layout.rootDiskController {
            // sda with two partitions; sys/dev/block names every block device by major:minor, as Linux does.
            let disk = portDirectory(layout.functions.first { $0.address == controller }?.port ?? controller)
                + "/\(controller)/host0/target0:0:0/0:0:0:0/block/sda"
            tree.makeDirectory("sys/dev/block")
            tree.link("sys/class/block/sda", to: disk)
            tree.link("sys/dev/block/8:0", to: disk)
            for (number, name) in [(1, "sda1"), (2, "sda2")] {
                tree.makeDirectory(disk + "/" + name)
                tree.write(disk + "/\(name)/dev", "8:\(number)\n")
                tree.link("sys/class/block/" + name, to: disk + "/" + name)
                tree.link("sys/dev/block/8:\(number)", to: disk + "/" + name)
            }
            tree.makeDirectory("dev")
            let (device, numbers, type, source): (String, String, String, String)
            switch layout.rootFilesystem {
            case .partition: (device, numbers, type, source) = ("/dev/sda1", "8:1", "ext4", "/dev/sda1")
            case .devRoot: (device, numbers, type, source) = ("/dev/root", "8:1", "ext4", "/dev/root")
            case .deviceMapper:
                let dm = "sys/devices/virtual/block/dm-0"
                tree.makeDirectory(dm + "/slaves")
                tree.write(dm + "/dev", "253:0\n")
                tree.link(dm + "/slaves/sda2", to: disk + "/sda2")
                tree.link("sys/class/block/dm-0", to: dm)
                tree.link("sys/dev/block/253:0", to: dm)
                (device, numbers, type, source) = ("/dev/mapper/vg-root", "253:0", "ext4", "/dev/mapper/vg-root")
            case .zfs: (device, numbers, type, source) = ("rpool/ROOT/debian", "0:24", "zfs", "rpool/ROOT/debian")
            }
            tree.write("proc/mounts", "\(device) / \(type) rw,relatime 0 0\nproc /proc proc rw 0 0\n")
            tree.makeDirectory("proc/self")
            tree.write("proc/self/mountinfo", """
                24 1 \(numbers) / / rw,relatime shared:1 - \(type) \(source) rw
                25 24 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw

                """)
        } else {
            tree.write("proc/mounts", "tmpfs / tmpfs rw 0 0\n")
            tree.makeDirectory("proc/self")
            tree.write("proc/self/mountinfo", "24 1 0:21 / / rw shared:1 - tmpfs tmpfs rw\n")
        }
        var route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        if let interface = layout.defaultRouteInterface {
            route += "\(interface)\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
            route += "\(interface)\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        }
        tree.write("proc/net/route", route)
        tree.write("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/sda1 ro quiet\n")
        if layout.xenDom0 {
            tree.makeDirectory("proc/xen")
            tree.write("proc/xen/capabilities", "control_d\n")
            tree.makeDirectory("sys/hypervisor")
            tree.write("sys/hypervisor/type", "xen\n")
            tree.write("sys/hypervisor/guest_type", layout.pvhDom0 ? "PVH\n" : "PV\n")
            writeToolstack(tree, layout)
        }
        if let libxl = layout.libxl, let version = LibxlDpkgVersion(libxl) {
            tree.makeDirectory("var/lib/dpkg")
            tree.write("var/lib/dpkg/status", """
                Package: libxenmisc\(version.release)
                Status: install ok installed
                Priority: optional
                Section: libs
                Architecture: amd64
                Source: xen
                Version: \(libxl)
                Description: Xen runtime libraries - miscellaneous, versioned ABI

                """)
        }
        tree.write("etc/default/grub", """
            # If you change this file, run 'update-grub' afterwards to update /boot/grub/grub.cfg.
            GRUB_DEFAULT=0
            GRUB_TIMEOUT=5
            GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
            GRUB_CMDLINE_LINUX_DEFAULT="quiet"
            GRUB_CMDLINE_LINUX=""

            """)
        return root
    }

    /// What the toolstack owning the domains leaves on the host: xapi's inventory (XCP-ng 8.3's keys), or
    /// libvirt's libxl driver's pid file and a status file per running domain.
    static func writeToolstack(_ tree: SimTree, _ layout: SimLayout) {
        switch layout.toolstack {
        case .xl:
            break
        case .xapi:
            tree.write("etc/xensource-inventory", """
                PRODUCT_BRAND='XCP-ng'
                PRODUCT_VERSION='8.3.0'
                INSTALLATION_UUID='0d0a1b9e-2f4c-4f0e-9a51-5c3e7f1d2b60'
                CONTROL_DOMAIN_UUID='5b3f6a8c-1e2d-4c7b-8f90-a1b2c3d4e5f6'
                MANAGEMENT_INTERFACE='xenbr0'

                """)
        case .libvirt:
            let state = "run/libvirt/libxl"
            tree.makeDirectory(state)
            tree.write(state + "/driver.pid", "1234\n")
            for domain in layout.domains {
                tree.write(state + "/\(domain.name).xml", """
                    <domstatus state='running' reason='booted' pid='0'>
                      <domain type='xen' id='\(domain.id)'>
                        <name>\(domain.name)</name>
                        <vcpu placement='static'>2</vcpu>
                      </domain>
                    </domstatus>

                    """)
            }
        }
    }

    /// The root at `path`, wired to the simulated kernel (for a tree this wrote).
    public static func hostRoot(_ path: String) -> HostRoot {
        HostRoot(path, attributeWriter: SimulatedKernel())
    }

    /// Whether a root is a simulated host: it carries the marker and is not the running system's `/`
    /// (however it is spelled), where a stray marker file must never turn real writes into simulated ones.
    public static func isSimulated(_ root: HostRoot) -> Bool {
        guard !root.isRunningSystem else { return false }
        return root.exists(markerFile)
    }

    static func portDirectory(_ port: PCIAddress) -> String {
        "sys/devices/pci\(hex(port.domain, width: 4)):\(hex(port.bus, width: 2))/\(port)"
    }

    static func writeFunctionFiles(_ tree: SimTree, dir: String, address: PCIAddress, vendor: UInt16,
                                   device: UInt16, classCode: UInt32, numaNode: Int, config: [UInt8]) {
        tree.write(dir + "/vendor", "0x" + hex(vendor, width: 4) + "\n")
        tree.write(dir + "/device", "0x" + hex(device, width: 4) + "\n")
        tree.write(dir + "/subsystem_vendor", "0x" + hex(vendor, width: 4) + "\n")
        tree.write(dir + "/subsystem_device", "0x0000\n")
        tree.write(dir + "/class", "0x" + hex(classCode, width: 6) + "\n")
        tree.write(dir + "/revision", "0x01\n")
        tree.write(dir + "/numa_node", "\(numaNode)\n")
        tree.write(dir + "/driver_override", "(null)\n")
        tree.write(dir + "/reset", "")
        tree.write(dir + "/config", bytes: config)
    }

    static func addToIOMMUGroup(_ tree: SimTree, _ group: Int, device: PCIAddress, dir: String) {
        let groupDir = "sys/kernel/iommu_groups/\(group)"
        tree.makeDirectory(groupDir + "/devices")
        tree.link(groupDir + "/devices/\(device)", to: dir)
        tree.link(dir + "/iommu_group", to: groupDir)
    }

    /// The module directory name of a driver (`xen-pciback` for pciback).
    static func moduleName(_ driver: String) -> String {
        driver == PCIDevice.pcibackDriver ? "xen_pciback" : driver
    }
}

extension SimSRIOV {
    func vfAddress(_ index: Int, pf: PCIAddress) -> PCIAddress? {
        pf.advanced(byRoutingID: offset + index * stride)
    }
}

extension SimulatedHost {
    public static func exists(at path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isSimulated(_ path: String) -> Bool { isSimulated(HostRoot(path)) }

    /// Deletes a simulated host tree (only one that carries the marker).
    public static func remove(at path: String) {
        guard isSimulated(path) else { return }
        let root = HostRoot(path)
        for entry in root.list("") { SimTree(root: root).removeTree(entry) }
        rmdir(path)
    }
}

/// The release ("4.17") of a dpkg version of Xen ("4.17.7+13-g2445b30a44-0+deb12u1"), for the package name.
struct LibxlDpkgVersion {
    var release: String

    init?(_ text: String) {
        let numbers = text.prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard numbers.count >= 2 else { return nil }
        release = numbers[0] + "." + numbers[1]
    }
}
