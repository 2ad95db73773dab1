import Foundation
import SRIOV
import Testing
import TestSupport
@testable import XVFKit

/// With a host tree as the root, only declared stand-ins run: wherever `PATH` finds a program, what
/// counts is the file it really is.
@Suite struct ProgramGuardTests {
    final class Directories {
        let base = temporaryDirectory("guard")
        var home: String { base + "/home-bin" }
        var fakes: String { base + "/fakes" }
        init() throws {
            for dir in [home, fakes] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        }
        func script(_ path: String) {
            FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\nexit 0\n".utf8),
                                           attributes: [.posixPermissions: 0o755])
        }
    }

    let tree = HostRoot("/tmp/some-tree")

    @Test func aLinkToTheSystemsProgramIsRefused() throws {
        // ~/bin/ip -> /bin/sh: the PATH directory is the user's, the program is the system's.
        let dirs = try Directories()
        try FileManager.default.createSymbolicLink(atPath: dirs.home + "/ip", withDestinationPath: "/bin/sh")
        let refusal = XVFError.Code.programWouldChangeHost(path: dirs.home + "/ip", tree: "/tmp/some-tree",
                                                           real: ProgramGuard.canonical("/bin/sh"))
        let undeclared = thrown(XVFError.self) {
            try ProgramGuard.check([.run(["ip", "link"])], root: tree, searchPath: dirs.home, fakeDirectories: "")
        }
        #expect(undeclared?.code == refusal)
        // Declaring the directory does not help: the link leads out of it.
        let declared = thrown(XVFError.self) {
            try ProgramGuard.check([.run(["ip", "link"])], root: tree, searchPath: dirs.home, fakeDirectories: dirs.home)
        }
        #expect(declared?.code == refusal)
    }

    @Test func anUndeclaredProgramOutsideTheSystemsDirectoriesIsRefused() throws {
        // A copy of the real program in $HOME, /snap/bin, /nix/store: none is a stand-in unless declared.
        let dirs = try Directories()
        dirs.script(dirs.home + "/modprobe")
        let error = thrown(XVFError.self) {
            try ProgramGuard.check([.run(["modprobe", "igb"])], root: tree, searchPath: dirs.home, fakeDirectories: dirs.fakes)
        }
        let copy = dirs.home + "/modprobe"
        #expect(error?.code == .programWouldChangeHost(path: copy, tree: "/tmp/some-tree",
                                                       real: ProgramGuard.canonical(copy).flatMap { $0 == copy ? nil : $0 }))
        #expect(error?.kind == .failed)
    }

    @Test func aProgramNotOnPathIsUnavailable() throws {
        let dirs = try Directories()
        let error = thrown(XVFError.self) {
            try ProgramGuard.check([.run(["ip", "link"])], root: tree, searchPath: dirs.home, fakeDirectories: dirs.fakes)
        }
        #expect(error?.code == .programMissing("ip", package: "iproute2"))
        #expect(error?.exitCode == 3)
        #expect(error?.message == "ip is not on PATH; install it (Debian: iproute2) or fix PATH")
    }

    @Test func aDeclaredStandInRuns() throws {
        let dirs = try Directories()
        dirs.script(dirs.fakes + "/modprobe")
        // Found through a link from an undeclared directory, it is still the stand-in.
        try FileManager.default.createSymbolicLink(atPath: dirs.home + "/ip", withDestinationPath: dirs.fakes + "/modprobe")
        try ProgramGuard.check([.run(["modprobe", "igb"]), .run(["ip", "link"])], root: tree,
                               searchPath: dirs.fakes + ":" + dirs.home, fakeDirectories: dirs.fakes)
        // On the real root every program runs: it acts on the machine the root describes.
        try ProgramGuard.check([.run(["sh"])], root: HostRoot("/"), searchPath: "/usr/bin:/bin", fakeDirectories: "")
    }

    @Test func theRunnerRefusesTheSystemsProgramsOnATree() {
        // /bin/sh stands for modprobe: with a tree as the root, a program from the system's directories
        // would act on this machine.
        let error = thrown(XVFError.self) {
            try ProgramGuard.check([.run(["sh", "-c", "exit 0"])], root: tree, searchPath: "/usr/bin:/bin")
        }
        guard case .programWouldChangeHost(_, let refusedTree, _)? = error?.code else {
            Issue.record("not a refusal to run a system program: \(String(describing: error))")
            return
        }
        #expect(refusedTree == "/tmp/some-tree")
        #expect(throws: Never.self) {
            try ProgramGuard.check([.run(["sh"])], root: HostRoot("/"), searchPath: "/usr/bin:/bin")
        }
    }
}
