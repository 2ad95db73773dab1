import Foundation
import Testing
import XVFKit

/// JSON as xvf writes it (every field of `list --json` is in Golden/list-json.txt of CLITests).
@Suite struct HostReportTests {
    // Numbers are written digit by digit and plain strings copied whole: both edges, and what needs escaping.
    @Test func jsonWritesNumbersAndEscapesAsJSONReadsThem() throws {
        let value = JSON.object([
            ("numbers", .array([.int(0), .int(7), .int(-1), .int(1_000_000), .int(Int.max), .int(Int.min)])),
            ("plain", .string("eno49/2")), ("quoted", .string("a \"b\" c\\d\n\u{1}")), ("none", .null),
        ])
        let text = value.serialized()
        #expect(text == #"{"numbers":[0,7,-1,1000000,9223372036854775807,-9223372036854775808],"#
                + #""plain":"eno49/2","quoted":"a \"b\" c\\d\n\u0001","none":null}"#)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["quoted"] as? String == "a \"b\" c\\d\n\u{1}")
    }
}
