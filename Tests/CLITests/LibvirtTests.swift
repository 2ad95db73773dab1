import Foundation
import Testing
import TestSupport

/// `cfg line --libvirt` and `cfg pool` for Xen hosts run by libvirt's libxl driver: the XML is held to
/// libvirt's own schema with virt-xml-validate (Debian's libvirt-clients, which `make test` installs).
@Suite struct LibvirtTests {
    static let validator = ["/usr/bin/virt-xml-validate", "/usr/local/bin/virt-xml-validate"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// virt-xml-validate's verdict on `xml` as a document of `kind` (domain, network).
    func validate(_ xml: String, as kind: String) throws -> (valid: Bool, output: String) {
        let file = temporaryDirectory("libvirt") + "/\(kind).xml"
        try xml.write(toFile: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.validator))
        process.arguments = [file, kind]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus == 0, output)
    }

    @Test func hostdevsAreWhatLibvirtTakes() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "cfg", "line", "--libvirt", "eno49/2,permissive=1", "05:10.0@5"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <driver name='xen'/>
              <source writeFiltering='no'>
                <address domain='0x0000' bus='0x04' slot='0x11' function='0x0'/>
              </source>
            </hostdev>
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <driver name='xen'/>
              <source>
                <address domain='0x0000' bus='0x05' slot='0x10' function='0x0'/>
              </source>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
            </hostdev>

            """)
    }

    @Test(.enabled(if: validator != nil, "virt-xml-validate is not installed (Debian: libvirt-clients)"))
    func hostdevsValidateAgainstLibvirtsSchema() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "cfg", "line", "--libvirt", "eno49/2,permissive=1", "05:10.0@5"])
        let domain = "<domain type='xen'><name>web1</name><memory unit='KiB'>262144</memory><os><type>linux</type></os>"
            + "<devices>\(result.stdout)</devices></domain>\n"
        let verdict = try validate(domain, as: "domain")
        #expect(verdict.valid, "\(verdict.output)")
    }

    @Test func aPoolIsAHostdevNetworkOfThePF() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "cfg", "pool", "04:00.0"])
        // --libvirt, which earlier releases documented, is still taken and changes nothing.
        #expect(try xvf(["--root", root, "cfg", "pool", "--libvirt", "04:00.0"]).stdout == result.stdout)
        #expect(result.stdout == """
            <network>
              <name>eno49-vfs</name>
              <forward mode='hostdev' managed='yes'>
                <pf dev='eno49'/>
              </forward>
            </network>

            """)
    }

    @Test(.enabled(if: validator != nil, "virt-xml-validate is not installed (Debian: libvirt-clients)"))
    func thePoolValidatesAgainstLibvirtsSchema() throws {
        let result = try xvf(["--root", simulatedHost(), "cfg", "pool", "--libvirt", "04:00.0"])
        let verdict = try validate(result.stdout, as: "network")
        #expect(verdict.valid, "\(verdict.output)")
        // The validator does refuse what libvirt would: the test can fail.
        let broken = try validate(result.stdout.replacingOccurrences(of: "managed='yes'", with: "managed='maybe'"), as: "network")
        #expect(!broken.valid)
    }

    @Test("what libvirt cannot say is refused", arguments: [
        (["cfg", "line", "--libvirt", "05:10.0,seize=1"], "'0000:05:10.0,seize=1': libvirt's <hostdev> has no seize; leave it "
            + "out for libvirt (it applies libxl's default), or use an xl config (xvf cfg line)"),
        (["cfg", "line", "--libvirt", "05:10.*"], "'0000:05:10.*' names no single device; libvirt's <hostdev> takes one "
            + "function by address (0000:04:10.0)"),
        (["cfg", "pool", "--libvirt", "eno1"], "'eno1' (0000:03:00.0) is not SR-IOV capable (no sriov_totalvfs)"),
    ])
    func refusals(arguments: [String], message: String) throws {
        try expectRefusal(arguments, status: 2, message: message)
    }
}
