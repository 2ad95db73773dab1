import Foundation
import SRIOV
import Testing
import TestSupport

/// `HostRoot.replaceFile` and `contained`: writes stay inside the root, go through links, and keep the
/// file's mode and owner. Every tree is a temporary directory: `outside/` beside `root/` stands for the
/// machine's own files, which nothing may reach.
@Suite struct HostRootTests {
    final class Tree {
        let base = temporaryDirectory("hostroot")
        var root: String { base + "/root" }
        var outside: String { base + "/outside/web1.cfg" }
        init() throws {
            try FileManager.default.createDirectory(atPath: base + "/root/etc/xen/auto", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
            try "name = \"web1\"\n".write(toFile: root + "/etc/xen/web1.cfg", atomically: false, encoding: .utf8)
            try "mine\n".write(toFile: outside, atomically: false, encoding: .utf8)
        }
        func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    }

    @Test("a path that leads out of the root is refused and nothing is written", arguments: [
        "../outside/web1.cfg", "/../outside/web1.cfg", "etc/xen/../../../outside/web1.cfg", "etc/xen/escape.cfg",
        "etc/xen/dangling.cfg",
    ])
    func refusesTargetsOutsideTheRoot(relative: String) throws {
        let tree = try Tree()
        // An absolute link resolves on this machine, not in the tree; so does a dangling one to outside.
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/etc/xen/escape.cfg", withDestinationPath: tree.outside)
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/etc/xen/dangling.cfg",
                                                   withDestinationPath: "../../../outside/new.cfg")
        let root = HostRoot(tree.root)
        #expect(root.contained(relative) == nil)
        #expect(throws: FileError.self) { try root.replaceFile(relative, with: "pwned\n") }
        #expect(tree.text(tree.outside) == "mine\n")
        #expect(!FileManager.default.fileExists(atPath: tree.base + "/outside/new.cfg"))
    }

    @Test func pathsInsideTheRootResolveToTheirFile() throws {
        let tree = try Tree()
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/etc/xen/auto/web1.cfg", withDestinationPath: "../web1.cfg")
        let root = HostRoot(tree.root)
        #expect(root.contained("etc/xen/auto/web1.cfg") == "etc/xen/web1.cfg")
        #expect(root.contained("/etc/xen/auto/../web1.cfg") == "etc/xen/web1.cfg")
        #expect(root.contained("etc/modprobe.d/new.conf") == "etc/modprobe.d/new.conf")
        #expect(root.contained("etc/missing/../x") == nil)
    }

    // Links are read into a small stack buffer first; one that fills it is read again at full length.
    @Test func aLinkLongerThanTheFirstBufferReadsWhole() throws {
        let tree = try Tree()
        let long = String(repeating: "../a-long-directory-name", count: 100) + "/0000:04:00.0"
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/long", withDestinationPath: long)
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/short", withDestinationPath: "../0000:04:00.1")
        let root = HostRoot(tree.root)
        #expect(root.readLink("long") == long && root.linkTarget("long") == "0000:04:00.0")
        #expect(root.readLink("short") == "../0000:04:00.1")
        #expect(root.withDirectory(".") { $0.linkTarget("long") } == "0000:04:00.0")
        #expect(root.readLink("etc") == nil, "a directory is no link")
    }

    /// A file is read whole whatever its size says: a regular file of a few hundred kilobytes, an empty
    /// one, and a procfs file, whose size is 0 however much it holds.
    @Test func aFileIsReadWholeWhateverItsSizeSays() throws {
        let tree = try Tree()
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        FileManager.default.createFile(atPath: tree.root + "/big", contents: Data(big))
        FileManager.default.createFile(atPath: tree.root + "/empty", contents: Data())
        #expect(readFile(atPath: tree.root + "/big") == big)
        #expect(readFile(atPath: tree.root + "/empty") == [])
        let status = try #require(readFile(atPath: "/proc/self/status"))
        #expect(status.count > 1 && String(decoding: status, as: UTF8.self).hasPrefix("Name:"))
        #expect(String(decoding: status, as: UTF8.self).hasSuffix("\n"), "read to its end, not cut at its size")
        #expect(readFile(atPath: tree.root + "/missing") == nil)
    }

    @Test func aLinkIsWrittenThroughAndStaysALink() throws {
        // xendomains' usual layout: /etc/xen/auto/web1.cfg -> ../web1.cfg.
        let tree = try Tree()
        let link = tree.root + "/etc/xen/auto/web1.cfg"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../web1.cfg")
        try HostRoot(tree.root).replaceFile("etc/xen/auto/web1.cfg", with: "name = \"web2\"\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../web1.cfg")
        #expect(tree.text(tree.root + "/etc/xen/web1.cfg") == "name = \"web2\"\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.root + "/etc/xen").sorted() == ["auto", "web1.cfg"])
    }

    @Test func modeAndOwnerAreKept() throws {
        let tree = try Tree()
        let file = tree.root + "/etc/xen/web1.cfg"
        chmod(file, 0o640)
        // Only root may give a file away; elsewhere the owner is ours and the check still holds.
        let owner: (uid_t, gid_t) = getuid() == 0 ? (1234, 4321) : (getuid(), getgid())
        #expect(chown(file, owner.0, owner.1) == 0)
        try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "new\n")
        var info = stat()
        #expect(stat(file, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o640)
        #expect(info.st_uid == owner.0 && info.st_gid == owner.1)
        #expect(tree.text(file) == "new\n")
    }

    @Test func aNewFileGetsItsDirectories() throws {
        let tree = try Tree()
        try HostRoot(tree.root).replaceFile("etc/modprobe.d/xvf.conf", with: "x\n")
        #expect(tree.text(tree.root + "/etc/modprobe.d/xvf.conf") == "x\n")
    }
}
