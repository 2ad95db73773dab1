import Testing
@testable import XVFKit

/// Standard input for a program (`ip -batch -`), fed while its output is read.
@Suite struct ExternalProgramTests {
    @Test func inputLargerThanAPipeComesBackWhole() {
        // 256 KiB in and out: four times a pipe's buffer each way, which deadlocks a writer that does
        // not read meanwhile.
        let line = String(repeating: "x", count: 63) + "\n"
        let input = String(repeating: line, count: 4096)
        let result = ExternalProgram.run(["cat"], input: input)
        #expect(result.status == 0)
        #expect(result.output.count == input.count - 1)
        #expect(result.output + "\n" == input)
    }

    @Test func aProgramThatReadsNothingDoesNotStopXVF() {
        let result = ExternalProgram.run(["true"], input: String(repeating: "y\n", count: 100_000))
        #expect(result.status == 0)
    }

    @Test func withoutInputStdinIsEmpty() {
        #expect(ExternalProgram.run(["cat"]).output == "")
        #expect(ExternalProgram.run(["cat"], input: "").output == "")
    }
}
