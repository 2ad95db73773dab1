import Foundation
import Testing
import TestSupport

/// `xvf cfg line|add|remove` as users run them: the diff, the file written in place, refusals that leave
/// the file byte-identical.
@Suite struct DomainConfigTests {
    /// A config at /etc/xen/web1.cfg of a host tree of its own: `file` is its name there, `path` where the
    /// test reads it. The shipped xvf edits it under `--root`, as it would on a real host (the edit takes
    /// the host lock, under the tree's /run, never this machine's).
    struct Config {
        let root: String
        let file = "/etc/xen/web1.cfg"
        var path: String { root + file }
        func xvf(_ arguments: [String]) throws -> CommandResult { try shippedXVF(["--root", root] + arguments) }
    }

    func config(_ text: String) throws -> Config {
        let config = Config(root: temporaryDirectory("cfg"))
        try FileManager.default.createDirectory(atPath: config.root + "/etc/xen", withIntermediateDirectories: true)
        try text.write(toFile: config.path, atomically: true, encoding: .utf8)
        return config
    }

    @Test func linePrintsCanonicalSpecsAndResolvesVFNames() throws {
        let result = try xvf(["--root", simulatedHost(), "cfg", "line", "4:10.0,permissive=1", "eno49/2-3,seize=1", "05:10.0@5"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "pci = [ '0000:04:10.0,permissive=1', '0000:04:11.0,seize=1', '0000:04:11.4,seize=1', '0000:05:10.0@05' ]\n")
        let bad = try shippedXVF(["cfg", "line", "05:10"])
        #expect(bad.status == 2)
        #expect(bad.stdout == "")
        #expect(bad.stderr == "xvf: PCI spec '05:10' names device '05:10', which has no function number; write it as 05:10.0 "
                + "(BB:DD.F)\n")
    }

    @Test func addShowsTheDiffAndWritesInPlace() throws {
        let config = try config("# web1\nname = \"web1\"\npci = [ '0000:04:10.0' ] # nic\n")
        let file = config.file
        let dry = try config.xvf(["cfg", "add", file, "04:10.4,permissive=1", "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout == """
            --- \(file)
            +++ \(file)
            @@ line 3 @@
            -pci = [ '0000:04:10.0' ] # nic
            +pci = [ '0000:04:10.0', '0000:04:10.4,permissive=1' ] # nic
            dry run: nothing was changed

            """)
        #expect(try String(contentsOfFile: config.path, encoding: .utf8) == "# web1\nname = \"web1\"\npci = [ '0000:04:10.0' ] # nic\n")
        let real = try config.xvf(["cfg", "add", file, "04:10.4,permissive=1"])
        #expect(real.status == 0)
        #expect(try String(contentsOfFile: config.path, encoding: .utf8)
                == "# web1\nname = \"web1\"\npci = [ '0000:04:10.0', '0000:04:10.4,permissive=1' ] # nic\n")
        let again = try config.xvf(["cfg", "add", file, "04:10.4"])
        #expect(again.status == 0)
        #expect(again.stdout == """
            note: 0000:04:10.4 is already in pci (as '0000:04:10.4,permissive=1'); not added again
            /etc/xen/web1.cfg already says this; nothing to do

            """)
        #expect(again.stderr == "")
        let removed = try config.xvf(["cfg", "remove", file, "04:10.0"])
        #expect(removed.status == 0)
        #expect(try String(contentsOfFile: config.path, encoding: .utf8)
                == "# web1\nname = \"web1\"\npci = [ '0000:04:10.4,permissive=1' ] # nic\n")
    }

    /// `cfg` whole, as text and `--json`: the line, libvirt's elements and pool, an add planned and made,
    /// an add with nothing to do, and a remove.
    @Test func cfgWholeOutputs() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "# web1\nname = \"web1\"\npci = [ '0000:04:10.0' ] # nic\n".write(toFile: root + "/etc/xen/web1.cfg", atomically: true,
                                                                            encoding: .utf8)
        let run = Golden.Transcript(root: root)
        try run.xvf(["cfg", "line", "4:10.0,permissive=1", "eno49/2-3,seize=1"])
        try run.xvf(["cfg", "line", "--libvirt", "eno49/2"])
        try run.xvf(["cfg", "pool", "eno49"])
        try run.xvf(["cfg", "add", "/etc/xen/web1.cfg", "eno49/2,permissive=1", "--dry-run", "--json"])
        try run.xvf(["cfg", "add", "/etc/xen/web1.cfg", "eno49/2,permissive=1"])
        try run.xvf(["cfg", "add", "/etc/xen/web1.cfg", "eno49/2", "--json"])
        try run.xvf(["cfg", "add", "/etc/xen/web1.cfg", "eno49/2"])
        try run.xvf(["cfg", "remove", "/etc/xen/web1.cfg", "04:10.0", "--dry-run"])
        try run.xvf(["cfg", "remove", "/etc/xen/web1.cfg", "04:10.0", "--json"])
        try run.check("DomainConfig/cfg")
    }

    @Test("refusals leave the file byte-identical", arguments: [
        ("pci = [ '04:10.0' \nname = \"x\"\n", ["add", "04:11.0"], "/etc/xen/web1.cfg:2: config parsing error near `name': "
            + "syntax error, unexpected IDENT, expecting ']'; nothing was changed"),
        ("pci = [ '04:10.0,permissive=yes' ]\n", ["add", "04:11.0"], "/etc/xen/web1.cfg: xl reads pci item "
            + "'04:10.0,permissive=yes' differently from what it says (permissive); fix it first: write '0000:04:10.0,permissive=1'"),
        ("pci = [ '04:10.0' ]\n", ["add", "04:11"], "PCI spec '04:11' names device '04:11', which has no function number; "
            + "write it as 04:11.0 (BB:DD.F)"),
    ])
    func refusals(text: String, arguments: [String], message: String) throws {
        let config = try config(text)
        let result = try config.xvf(["cfg", arguments[0], config.file] + arguments.dropFirst())
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: \(message)\n")
        #expect(try String(contentsOfFile: config.path, encoding: .utf8) == text)
        #expect(try FileManager.default.contentsOfDirectory(atPath: config.root + "/etc/xen") == ["web1.cfg"],
                "no temporary file is left behind")
    }

    @Test("removing what the file does not list is a note, and changes nothing", arguments: [
        ("pci = [ '04:10.0' ]\n", "not-in-the-list"),
        ("name = \"x\"\n", "no-pci-setting"),
    ])
    func removingWhatIsNotListed(text: String, golden: String) throws {
        let config = try config(text)
        let result = try config.xvf(["cfg", "remove", config.file, "04:11.0"])
        #expect(result.status == 0, "\(result.stderr)")
        try Golden.check("DomainConfig/remove-" + golden, result, root: config.root)
        #expect(try String(contentsOfFile: config.path, encoding: .utf8) == text)
    }

    @Test func aMissingFileIsBadInput() throws {
        let result = try shippedXVF(["--root", temporaryDirectory("cfg"), "cfg", "add", "/nonexistent/web1.cfg", "04:10.0"])
        #expect(result.status == 2)
        #expect(result.stderr == "xvf: /nonexistent/web1.cfg does not exist; create the domain config first (see xlcfg/ for examples)\n")
    }

    @Test func aFileOutsideTheRootIsRefused() throws {
        // `outside/` beside the tree stands for this machine's /etc: `..` or a link must not reach it.
        let root = simulatedHost()
        let outside = (root as NSString).deletingLastPathComponent + "/outside/etc/xen/web1.cfg"
        try FileManager.default.createDirectory(atPath: (outside as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "pci = [ ]\n".write(toFile: outside, atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/xen/linked.cfg", withDestinationPath: outside)
        for name in ["/../outside/etc/xen/web1.cfg", "/etc/../../outside/etc/xen/web1.cfg", "/etc/xen/linked.cfg"] {
            let result = try xvf(["--root", root, "cfg", "add", name, "04:10.0"])
            #expect(result.status == 2)
            #expect(result.stderr == "xvf: \(name) leads outside the host root \(root); name a file inside it\n")
        }
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "pci = [ ]\n")
    }

    @Test func aLinkedConfigStaysALink() throws {
        // xendomains starts what /etc/xen/auto links to; the edit goes to the config, the link stays.
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen/auto", withIntermediateDirectories: true)
        try "name = \"web1\"\npci = [ ]\n".write(toFile: root + "/etc/xen/web1.cfg", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/xen/auto/web1.cfg", withDestinationPath: "../web1.cfg")
        let result = try xvf(["--root", root, "cfg", "add", "/etc/xen/auto/web1.cfg", "04:10.0"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/xen/auto/web1.cfg") == "../web1.cfg")
        #expect(try String(contentsOfFile: root + "/etc/xen/web1.cfg", encoding: .utf8) == "name = \"web1\"\npci = [ '0000:04:10.0' ]\n")
    }
}
