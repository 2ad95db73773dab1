import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// The attacks of a local user and the accidents of an operator, played against the command line on
/// simulated trees: each must do no harm, and where xvf refuses, the tree stays byte-identical.
@Suite struct SecurityTests {
    func write(_ root: String, _ relative: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
    }

    func bytes(_ root: String, _ relative: String) -> [UInt8] {
        Array((try? Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))) ?? Data())
    }

    /// A BEGIN marker whose END line is gone: replacing "the block" would delete the rest of the file.
    @Test func aManagedBlockWithoutItsEndIsRefused() throws {
        let root = simulatedHost()
        let grub = "etc/default/grub.d/xvf-pciback.cfg"
        try write(root, grub, Array("""
            # BEGIN xvf bootline (written by xvf; changes inside this block are replaced)
            GRUB_CMDLINE_LINUX_XEN_REPLACE="$GRUB_CMDLINE_LINUX xen-pciback.hide=(0000:04:10.0)"
            GRUB_TIMEOUT=3
            # the operator's own lines follow
            GRUB_DISABLE_OS_PROBER=true

            """.utf8))
        let before = snapshot(root)
        let result = try xvf(["--root", root, "bootline", "eno49/0", "--write"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: /\(grub) has the line '# BEGIN xvf bootline' without its '# END xvf bootline'; put "
                + "the end line back where xvf's block ends (or remove the block), then run again; nothing was changed\n")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    /// A domU config with Latin-1 bytes keeps every byte but the pci line it was asked to change.
    @Test func bytesThatAreNotUTF8SurviveAnEdit() throws {
        let root = simulatedHost()
        let head: [UInt8] = Array("# d".utf8) + [0xE9] + Array("p\u{00f4}t \\ caf".utf8) + [0xE9, 0xFF] + Array("\nname = \"web1\"\n".utf8)
        try write(root, "etc/xen/web1.cfg", head + Array("pci = [ '0000:04:10.0' ]\n".utf8))
        let result = try xvf(["--root", root, "cfg", "add", "/etc/xen/web1.cfg", "04:10.4"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(bytes(root, "etc/xen/web1.cfg") == head + Array("pci = [ '0000:04:10.0', '0000:04:10.4' ]\n".utf8))
    }

    /// A FIFO in place of a config would hang `cfg add` while it holds the lock; it is one line instead.
    @Test func aFIFOAsADomainConfigIsRefusedAtOnce() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        #expect(mkfifo(root + "/etc/xen/web1.cfg", 0o644) == 0)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "cfg", "add", "/etc/xen/web1.cfg", "04:10.4"])
        #expect(result.status == 2)
        #expect(result.stderr == "xvf: /etc/xen/web1.cfg: is not a regular file; name a regular file\n")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    /// `--json` results go to logs: the new file is left out unless asked for, and a password in it is
    /// masked when it is shown (in the diff too).
    @Test func secretsStayOutOfResults() throws {
        let root = simulatedHost()
        try write(root, "etc/xen/web1.cfg", Array("name = \"web1\"\nvncpasswd = \"s3cret\"\nvfb = [ 'vnc=1,vncpasswd=s3cret' ]\n".utf8), mode: 0o600)
        let plain = try xvf(["--root", root, "cfg", "add", "/etc/xen/web1.cfg", "04:10.4", "--json", "--dry-run"])
        #expect(plain.status == 0)
        #expect(plain.stdout == """
            {"changed":true,"dry_run":true,"steps":[{"what":"file_write","target":"/etc/xen/web1.cfg","status":"planned",\
            "detail":"write /etc/xen/web1.cfg"}],"warnings":[],"messages":["--- /etc/xen/web1.cfg","+++ /etc/xen/web1.cfg",\
            "@@ line 4 @@","+pci = [ '0000:04:10.4' ]","dry run: nothing was changed"],"error":null}

            """)
        let shown = try xvf(["--root", root, "cfg", "add", "/etc/xen/web1.cfg", "04:10.4", "--json", "--show-content"])
        #expect(shown.status == 0)
        #expect(!shown.stdout.contains("s3cret"))
        try Golden.check("Security/cfg-add-show-content", shown, root: root)
        // The file itself keeps its password and its mode.
        #expect(String(decoding: bytes(root, "etc/xen/web1.cfg"), as: UTF8.self).contains("vncpasswd = \"s3cret\""))
        var info = stat()
        stat(root + "/etc/xen/web1.cfg", &info)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    /// The host config is applied as root at every boot: one any user can write is refused by `boot` and
    /// failed by `doctor`, as sshd's StrictModes refuses an authorized_keys others can write.
    @Test func aHostConfigOthersCanWriteIsNotApplied() throws {
        let root = simulatedHost()
        try write(root, "etc/xen/xvf.cfg", Array("sriov = [ 'eno52,vfs=3' ]\n".utf8), mode: 0o666)
        let before = snapshot(root)
        let boot = try xvf(["--root", root, "boot"])
        #expect(boot.status == 1)
        #expect(boot.stdout == "")
        #expect(boot.stderr == "xvf: refusing to apply \(root)/etc/xen/xvf.cfg as root: \(root)/etc/xen/xvf.cfg is writable by "
                + "every user; make it and its directories owned and writable by root only (chown root:root, chmod go-w)\n")
        #expect(changes(from: before, to: snapshot(root)) == [])
        let doctor = try xvf(["--root", root, "doctor", "--json"])
        #expect(doctor.status == 1)
        try Golden.check("Security/doctor-host-config-others-can-write", doctor, root: root)
        // A directory above it that others can write is the same hole.
        chmod(root + "/etc/xen/xvf.cfg", 0o644)
        chmod(root + "/etc/xen", 0o777)
        let again = try xvf(["--root", root, "boot", "--dry-run"])
        #expect(again.status == 1)
        #expect(again.stdout == "")
        #expect(again.stderr == "xvf: refusing to apply \(root)/etc/xen/xvf.cfg as root: \(root)/etc/xen is writable by every "
                + "user; make it and its directories owned and writable by root only (chown root:root, chmod "
                + "go-w)\n")
    }

    /// A name read from the host or typed by a user never forges a line: control characters are escaped.
    @Test func controlCharactersInNamesAreEscaped() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "show", "eth9\nxvf: all is well\u{1B}[2J"])
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1)
        try Golden.check("Security/control-characters-escaped", result, root: root)
    }
}

extension SecurityTests {
    /// Linux lets an interface be named `o#"52`; ip's batch reader would cut that line at `#` (and read the
    /// quote), so the VF's settings would go elsewhere or nowhere. Such a line runs as its own `ip`, with
    /// an argument vector; the other lines still go in one batch.
    @Test func anInterfaceNameIPsBatchWouldMisreadRunsAsItsOwnArgv() throws {
        var layout = SimLayout.dl360()
        let odd = "o#\"52"
        let index = try #require(layout.functions.firstIndex { $0.interface == "eno52" })
        layout.functions[index].interface = odd
        let root = simulatedHost(layout)
        try write(root, "etc/xen/xvf.cfg", Array("""
            sriov = [ '\(odd),vfs=2', 'eno51,vfs=4' ]
            vf = [ '\(odd)/1,trust=on', 'eno51/0,trust=on' ]

            """.utf8))
        let ip = try BootTests.FakeIP()
        let result = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ip.runs().filter { !$0[0].hasPrefix("ARGV -json") } == [
            ["ARGV link set dev \(odd) vf 1 trust on"],
            ["ARGV -force -batch -", "link set dev eno51 vf 0 trust on"],
        ])
    }

    /// A name with XML's own characters goes into libvirt's network XML escaped.
    @Test func namesGoIntoLibvirtXMLEscaped() throws {
        var layout = SimLayout.dl360()
        let index = try #require(layout.functions.firstIndex { $0.interface == "eno52" })
        layout.functions[index].interface = "a'b<&>"
        let root = simulatedHost(layout)
        let result = try xvf(["--root", root, "cfg", "pool", "--libvirt", "a'b<&>"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            <network>
              <name>a&apos;b&lt;&amp;&gt;-vfs</name>
              <forward mode='hostdev' managed='yes'>
                <pf dev='a&apos;b&lt;&amp;&gt;'/>
              </forward>
            </network>

            """)
    }
}
