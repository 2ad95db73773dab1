#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import SimHost
import XenPCI
import XVFKit

// Fuzz targets for every parser that user input or the host reaches. Built normally, `xvf-fuzz TARGET
// FILE…` runs a target once on each file (the corpora and past crashes, as regression tests); built by
// `make fuzz` with -sanitize=fuzzer and XVF_FUZZ, `xvf-fuzz TARGET [libFuzzer options] CORPUS` fuzzes it.
// A target must only ever return: a crash, a hang or a leak is the finding.

/// A simulated DL360 for the parsers that read the host (the host config checks items against it), and
/// a scratch file under its root for those that read a file there. It goes at exit (libFuzzer ends the
/// process with exit(), not by returning), so that runs do not pile up trees in /tmp.
let scratchHost: (path: String, inventory: HostInventory) = {
    let path = "/tmp/xvf-fuzz-\(getpid())"
    SimulatedHost.build(.dl360(), at: path)
    atexit { SimulatedHost.remove(at: "/tmp/xvf-fuzz-\(getpid())") }
    return (path, try! HostInventory.discover(HostRoot(path)))
}()

func writeScratch(_ relative: String, _ bytes: UnsafeBufferPointer<UInt8>) {
    let path = scratchHost.path + "/" + relative
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    _ = write(fd, bytes.baseAddress, bytes.count)
    close(fd)
}

let targets: [String: (UnsafeBufferPointer<UInt8>) -> Void] = [
    "pci-spec": { bytes in _ = try? PCISpec(parsing: String(decoding: bytes, as: UTF8.self)) },
    "device-name": { bytes in _ = try? DeviceName(parsing: String(decoding: bytes, as: UTF8.self)) },
    "xl-statements": { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let layout = XLStatements(scanning: text)
        _ = layout.items(of: "pci")
    },
    "domain-config": { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let spec = try! PCISpec(parsing: "0000:04:10.4,permissive=1")
        if let added = try? DomainConfigPCIList.add([spec], to: text, filename: "fuzz.cfg") {
            _ = try? DomainConfigPCIList.remove([spec.address!], from: added.edited, filename: "fuzz.cfg")
        }
        _ = try? DomainConfigPCIList.remove([spec.address!], from: text, filename: "fuzz.cfg")
    },
    "host-config": { bytes in
        _ = try? HostConfig(text: String(decoding: bytes, as: UTF8.self), filename: "xvf.cfg",
                            inventory: scratchHost.inventory)
    },
    "pciback-hide": { bytes in _ = try? PcibackHideList.parse(String(decoding: bytes, as: UTF8.self)) },
    "ip-json": { bytes in _ = IPLinkReport.parse(String(decoding: bytes, as: UTF8.self)) },
    "modules-alias": { bytes in
        writeScratch("lib/modules/\(SimulatedHost.kernelRelease)/modules.alias", bytes)
        let aliases = ModuleAliases(root: HostRoot(scratchHost.path))
        _ = aliases.module(vendor: 0x8086, device: 0x1520, subsystemVendor: 0x8086, subsystemDevice: 0, classCode: 0x020000)
    },
    "mountinfo": { bytes in
        writeScratch("proc/self/mountinfo", bytes)
        _ = HostSafety(HostInventory(root: HostRoot(scratchHost.path), devices: Array(scratchHost.inventory.devices.values)))
    },
    "route": { bytes in
        writeScratch("proc/net/route", bytes)
        _ = HostSafety(HostInventory(root: HostRoot(scratchHost.path), devices: Array(scratchHost.inventory.devices.values)))
    },
]

func complain(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

var arguments = CommandLine.arguments
guard arguments.count >= 2, let target = targets[arguments[1]] else {
    let names = targets.keys.sorted().joined(separator: ", ")
    complain("usage: xvf-fuzz TARGET FILE… (replay) or, built by `make fuzz`, xvf-fuzz TARGET [libFuzzer options]; "
             + "targets: \(names)")
    exit(64)
}
let chosen = target
#if XVF_FUZZ
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
nonisolated(unsafe) var fuzzTarget = target
fuzzTarget = target

/// libFuzzer's driver refers to this entry even when it is handed a callback.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzTarget(UnsafeBufferPointer(start: data, count: size))
    return 0
}
_ = scratchHost
// libFuzzer takes the options after the target name.
var argc = Int32(arguments.count - 1)
var argv: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(2)).map { strdup($0) } + [nil]
let status = argv.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var base: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &base, fuzzOne)
}
exit(status)
#else
for file in arguments.dropFirst(2) {
    guard let bytes = readFile(atPath: file) else {
        complain("xvf-fuzz: cannot read \(file)")
        exit(66)
    }
    bytes.withUnsafeBufferPointer { chosen($0) }
}
#endif
