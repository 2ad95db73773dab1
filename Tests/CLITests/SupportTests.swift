import Foundation
import Testing
import TestSupport

/// The harness itself: a child's output is read whatever its size, and trees go in one scratch directory.
@Suite struct SupportTests {
    @Test(.timeLimit(.minutes(1))) func moreThanAPipeOnStandardErrorDoesNotHang() throws {
        // xvf names the bad argument in its error: 100 KiB of it (one argument may have 128) is beyond a
        // pipe's 64 KiB.
        let name = String(repeating: "x", count: 100_000)
        let result = try xvf(["--root", simulatedHost(), "show", name])
        #expect(result.status == 2)
        #expect(result.stderr.count > 100_000)
    }

    @Test func simulatedHostsLiveInTheProcessScratchDirectory() {
        // testScratch goes when the test process exits, taking every tree with it.
        #expect(simulatedHost().hasPrefix(testScratch + "/"))
        #expect(temporaryDirectory().hasPrefix(testScratch + "/"))
        #expect(testScratch.hasSuffix("/xvf-tests-\(getpid())"))
    }
}
