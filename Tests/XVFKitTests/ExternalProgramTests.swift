import SRIOV
import Testing
@testable import XVFKit

/// Standard input for a program (`ip -batch -`), fed while its output is read; the program and the
/// environment a root tool gives it.
@Suite struct ExternalProgramTests {
    /// The running system's root: programs come from the system's directories with two variables.
    let system = HostRoot("/")
    /// A host tree: programs are the tests' stand-ins, found through PATH.
    let tree = HostRoot("/nonexistent-xvf-tree")

    @Test func inputLargerThanAPipeComesBackWhole() {
        // 256 KiB in and out: four times a pipe's buffer each way, which deadlocks a writer that does
        // not read meanwhile.
        let line = String(repeating: "x", count: 63) + "\n"
        let input = String(repeating: line, count: 4096)
        let result = ExternalProgram.run(["cat"], input: input, for: system)
        #expect(result.status == 0)
        #expect(result.output.count == input.count - 1)
        #expect(result.output + "\n" == input)
    }

    @Test func aProgramThatReadsNothingDoesNotStopXVF() {
        let result = ExternalProgram.run(["true"], input: String(repeating: "y\n", count: 100_000), for: system)
        #expect(result.status == 0)
    }

    @Test func withoutInputStdinIsEmpty() {
        #expect(ExternalProgram.run(["cat"], for: system).output == "")
        #expect(ExternalProgram.run(["cat"], input: "", for: tree).output == "")
    }

    /// On the real root a program gets PATH and LC_ALL and nothing of the caller's environment (here
    /// the test runner's, which holds dozens of variables), and is the system's own, not the caller's
    /// PATH's first match.
    @Test func onTheRealRootAProgramGetsTheSystemsPathAndNothingElse() {
        let result = ExternalProgram.run(["env"], for: system)
        #expect(result.status == 0)
        #expect(result.output == "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C")
    }

    @Test func onTheRealRootAProgramOutsideTheSystemsDirectoriesIsNotRun() {
        let result = ExternalProgram.run(["xvf-no-such-program"], for: system)
        #expect(result.status == 127)
        #expect(result.output == "cannot run xvf-no-such-program: not found in /usr/sbin:/usr/bin:/sbin:/bin")
    }
}
