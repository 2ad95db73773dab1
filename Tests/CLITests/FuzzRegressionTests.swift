import Foundation
import Testing
import TestSupport

/// Every input the fuzzers found (Tests/Fuzz/crashes/TARGET) and every seed (Tests/Fuzz/corpus/TARGET),
/// run once through its target in the plain build of xvf-fuzz: what once crashed must now just return.
@Suite struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fuzz").standardized.path

    static var cases: [(target: String, files: [String])] {
        var result: [String: [String]] = [:]
        for kind in ["corpus", "crashes"] {
            let base = fuzzDirectory + "/" + kind
            for target in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
                let files = ((try? FileManager.default.contentsOfDirectory(atPath: base + "/" + target)) ?? [])
                    .map { base + "/" + target + "/" + $0 }
                result[target, default: []] += files
            }
        }
        return result.keys.sorted().map { ($0, result[$0]!) }
    }

    @Test func everyTargetHasSeeds() {
        #expect(Self.cases.count == 10, "\(Self.cases.map(\.target))")
        #expect(Self.cases.allSatisfy { !$0.files.isEmpty })
    }

    /// The targets that read the host get a simulated one under /tmp; a run must take it away again
    /// (every test run and fuzz run once left one behind).
    @Test func aRunLeavesNoScratchHostBehind() throws {
        let files = try #require(Self.cases.first { $0.target == "route" }?.files)
        let process = Process()
        process.executableURL = Binaries.directory.appendingPathComponent("xvf-fuzz")
        process.arguments = ["route", files[0]]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/xvf-fuzz-\(process.processIdentifier)"))
    }

    @Test("the seeds and past findings run clean", arguments: cases.map(\.target))
    func replay(target: String) throws {
        let files = try #require(Self.cases.first { $0.target == target }?.files)
        let result = try run("xvf-fuzz", [target] + files)
        #expect(result.status == 0, "\(result.stderr)")
    }
}
