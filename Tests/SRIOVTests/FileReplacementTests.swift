import CSystem
import Foundation
import SRIOV
import Testing
import TestSupport

/// `HostRoot.replaceFile` played against by a local attacker and an unlucky operator: planted links for
/// the temporary's name, directories other users can write, ACLs and other extended attributes, bytes
/// that are not UTF-8. Tests that need a second uid need root and say so.
@Suite struct FileReplacementTests {
    final class Tree {
        let base = temporaryDirectory("replace")
        var root: String { base + "/root" }
        var config: String { root + "/etc/xen/web1.cfg" }
        var victim: String { base + "/victim" }
        init() throws {
            try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
            try Data("name = \"web1\"\n".utf8).write(to: URL(fileURLWithPath: config))
            try Data("root's own file\n".utf8).write(to: URL(fileURLWithPath: victim))
        }
        func bytes(_ path: String) -> [UInt8] { Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()) }
    }

    static let isRoot = geteuid() == 0
    static let nobody: uid_t = 65534

    /// The old temporary was `.NAME.xvf-PID`: links planted under every such name for the next pids lead
    /// nowhere now, and are left alone.
    @Test func linksPlantedForPredictableTemporariesAreNotFollowed() throws {
        let tree = try Tree()
        let me = Int(getpid())
        for pid in me..<(me + 50) {
            try FileManager.default.createSymbolicLink(atPath: tree.root + "/etc/xen/.web1.cfg.xvf-\(pid)", withDestinationPath: tree.victim)
        }
        try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "name = \"web1\"\nmemory = 512\n")
        #expect(tree.bytes(tree.victim) == Array("root's own file\n".utf8))
        #expect(tree.bytes(tree.config) == Array("name = \"web1\"\nmemory = 512\n".utf8))
        // What is left of the planted names is still a link to the victim: none was written through. (Links
        // whose pid names no process are taken for a killed writer's leftovers, and removed as links.)
        let entries = try FileManager.default.contentsOfDirectory(atPath: tree.root + "/etc/xen")
        for entry in entries where entry.hasPrefix(".web1.cfg.xvf-") {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: tree.root + "/etc/xen/" + entry) == tree.victim)
        }
        #expect(entries.filter { !$0.hasPrefix(".web1.cfg.xvf-") } == ["web1.cfg"])
    }

    @Test(.enabled(if: isRoot, "needs root: a directory of another uid"))
    func aDirectoryAnotherUserOwnsIsRefused() throws {
        let tree = try Tree()
        chown(tree.root + "/etc/xen", Self.nobody, Self.nobody)
        let before = tree.bytes(tree.config)
        #expect(throws: FileError.self) { try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "pwned\n") }
        do { try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "pwned\n") } catch {
            #expect(error.description == "\(tree.config): is not safe to replace as root: \(tree.root)/etc/xen is owned by "
                    + "uid 65534, neither root nor the file's owner; make that directory writable by root (or the file's owner) only")
        }
        #expect(tree.bytes(tree.config) == before)
    }

    @Test func aDirectoryEveryoneCanWriteIsRefused() throws {
        let tree = try Tree()
        chmod(tree.root + "/etc", 0o777)
        defer { chmod(tree.root + "/etc", 0o755) }
        let before = tree.bytes(tree.config)
        #expect(throws: FileError.self) { try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "pwned\n") }
        #expect(tree.bytes(tree.config) == before)
        // With the sticky bit (as /tmp has it) nobody can rename another's entry: allowed.
        chmod(tree.root + "/etc", 0o1777)
        try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "ok\n")
        #expect(tree.bytes(tree.config) == Array("ok\n".utf8))
    }

    /// A link into a directory another user can write leads to a file that user can swap: refused, though
    /// the link's own directory is root's.
    @Test func aLinkIntoAWritableDirectoryIsRefused() throws {
        let tree = try Tree()
        // root/etc/xen/db1.cfg -> ../../srv/shared/db1.cfg, in a directory every user can write.
        try FileManager.default.createDirectory(atPath: tree.root + "/srv/shared", withIntermediateDirectories: true)
        chmod(tree.root + "/srv/shared", 0o777)
        try Data("x = 1\n".utf8).write(to: URL(fileURLWithPath: tree.root + "/srv/shared/db1.cfg"))
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/etc/xen/db1.cfg", withDestinationPath: "../../srv/shared/db1.cfg")
        #expect(throws: FileError.self) { try HostRoot(tree.root).replaceFile("etc/xen/db1.cfg", with: "pwned\n") }
        #expect(tree.bytes(tree.root + "/srv/shared/db1.cfg") == Array("x = 1\n".utf8))
    }

    /// A symlinked config is written through and stays a link; mode kept.
    @Test func aLinkedConfigIsWrittenThroughAndStaysALink() throws {
        let tree = try Tree()
        try FileManager.default.createDirectory(atPath: tree.root + "/etc/xen/auto", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/etc/xen/auto/web1.cfg", withDestinationPath: "../web1.cfg")
        chmod(tree.config, 0o640)
        try HostRoot(tree.root).replaceFile("etc/xen/auto/web1.cfg", with: "memory = 1\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: tree.root + "/etc/xen/auto/web1.cfg") == "../web1.cfg")
        #expect(tree.bytes(tree.config) == Array("memory = 1\n".utf8))
        var info = stat()
        stat(tree.config, &info)
        #expect(info.st_mode & 0o7777 == 0o640)
    }

    /// An ACL that keeps a config holding vncpasswd from its owning group (group::---, mask r-- for one
    /// named group) and a user attribute come through the replacement byte for byte: without them the
    /// mask would become the owning group's read permission.
    @Test func aclsAndOtherAttributesAreKept() throws {
        let tree = try Tree()
        chmod(tree.config, 0o640)
        // posix_acl_xattr: version 2, then (tag, perm, id) entries, little-endian.
        func entry(_ tag: UInt16, _ perm: UInt16, _ id: UInt32) -> [UInt8] {
            withUnsafeBytes(of: tag.littleEndian, Array.init) + withUnsafeBytes(of: perm.littleEndian, Array.init)
                + withUnsafeBytes(of: id.littleEndian, Array.init)
        }
        let acl: [UInt8] = withUnsafeBytes(of: UInt32(2).littleEndian, Array.init)
            + entry(0x01, 6, .max) + entry(0x04, 0, .max) + entry(0x08, 4, 65534) + entry(0x10, 4, .max) + entry(0x20, 0, .max)
        try #require(setxattr(tree.config, "system.posix_acl_access", acl, acl.count, 0) == 0, "ACLs on \(tree.base)")
        let note = Array("kept by the operator".utf8)
        try #require(setxattr(tree.config, "user.note", note, note.count, 0) == 0)
        func attribute(_ name: String) -> [UInt8] {
            var value = [UInt8](repeating: 0, count: 256)
            let n = getxattr(tree.config, name, &value, value.count)
            return n < 0 ? [] : Array(value[..<n])
        }
        let aclBefore = attribute("system.posix_acl_access")
        try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "vncpasswd = \"s3cret\"\n")
        #expect(attribute("system.posix_acl_access") == aclBefore)
        #expect(attribute("user.note") == note)
        var info = stat()
        stat(tree.config, &info)
        #expect(info.st_mode & 0o777 == 0o640)
    }

    /// Every byte the edit did not mean to change comes back as it was: a Latin-1 comment survives a
    /// read, an edit of another line, and the write.
    @Test func bytesThatAreNotUTF8AreKept() throws {
        let tree = try Tree()
        let latin1: [UInt8] = Array("# caf".utf8) + [0xE9] + Array(" \u{00e9} ".utf8) + [0xFF, 0xC3] + Array("\nname = \"web1\"\n".utf8)
        try Data(latin1).write(to: URL(fileURLWithPath: tree.config))
        let root = HostRoot(tree.root)
        let text = try #require(try root.editableText("etc/xen/web1.cfg"))
        try root.replaceFile("etc/xen/web1.cfg", with: text + "memory = 512\n")
        #expect(tree.bytes(tree.config) == latin1 + Array("memory = 512\n".utf8))
    }

    @Test func aFIFOIsRefusedWithoutWaiting() throws {
        let tree = try Tree()
        try FileManager.default.removeItem(atPath: tree.config)
        #expect(mkfifo(tree.config, 0o644) == 0)
        #expect(throws: FileError.self) { try HostRoot(tree.root).editableText("etc/xen/web1.cfg") }
        #expect(throws: FileError.self) { try HostRoot(tree.root).replaceFile("etc/xen/web1.cfg", with: "x\n") }
    }

    @Test func aFileLargerThanTheLimitIsRefused() throws {
        let tree = try Tree()
        try Data(count: HostRoot.editableSizeLimit + 1).write(to: URL(fileURLWithPath: tree.config))
        do {
            _ = try HostRoot(tree.root).editableText("etc/xen/web1.cfg")
            Issue.record("read a file over the limit")
        } catch {
            #expect(error.description == "\(tree.config): is larger than 4 MiB; xvf edits only files smaller than that")
        }
    }
}
