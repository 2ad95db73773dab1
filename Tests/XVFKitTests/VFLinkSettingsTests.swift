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

    // iproute2 4.14-5.2 (Debian 10's, and older dom0s') names a VF's MAC `mac`; newer ones `address`. Either
    // is the MAC `xvf release` puts back, so a VF assigned on such a dom0 never keeps the guest's.
    @Test func aVFsMACIsReadUnderEitherOfIproute2sKeys() throws {
        let old = #"[{"ifname":"eno49","vfinfo_list":[{"vf":0,"mac":"52:54:00:AB:00:01","vlan":0,"qos":0,"spoofchk":true}]}]"#
        let new = #"[{"ifname":"eno49","vfinfo_list":[{"vf":0,"link_type":"ether","address":"52:54:00:ab:00:02","vlan_list":[{"vlan":5,"qos":1}],"trust":false}]}]"#
        #expect(IPLinkReport.parse(old)?["eno49"]?[0]?.mac == "52:54:00:ab:00:01")
        let settings = try #require(IPLinkReport.parse(new)?["eno49"]?[0])
        #expect(settings.mac == "52:54:00:ab:00:02" && settings.vlan == 5 && settings.qos == 1 && settings.trust == false)
    }
}
