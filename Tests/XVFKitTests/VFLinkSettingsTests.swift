import Testing
import XVFKit

@Suite struct VFLinkSettingsTests {
    @Test func aMACIsReadFromASCIIHexDigitsOnly() throws {
        #expect(try VFLinkSettings.parseMAC("52:54:00:AB:cd:0F").get() == "52:54:00:ab:cd:0f")
        // Character.isHexDigit accepts full-width digits; UInt8(_:radix:) does not: these once trapped.
        for text in ["\u{FF15}2:54:00:00:49:00", "52:54:00:00:49:\u{FF10}\u{FF10}", "52:54:00:00:49:\u{FF41}0",
                     "52:54:00:00:49", "52:54:00:00:49:0", "52:54:00:00:49:000", "52:54:00:00:49:0g", "52:54:00:00:49:00:"] {
            guard case .failure(let error) = VFLinkSettings.parseMAC(text) else {
                Issue.record("\(text) was taken as a MAC")
                continue
            }
            #expect(error.reason.hasPrefix("is not a MAC address"), "\(text): \(error.reason)")
        }
        guard case .failure(let multicast) = VFLinkSettings.parseMAC("01:54:00:00:49:01") else {
            Issue.record("a multicast MAC was taken")
            return
        }
        #expect(multicast.reason.hasPrefix("is a multicast address"))
    }
}
