import Foundation
import SRIOV
import Testing
@testable import XenPCI

/// Editing the `pci` list of xl domain configs: only the list changes, xl (libxlutil) reads the result.
@Suite struct DomainConfigPCIListTests {
    func spec(_ text: String) throws -> PCISpec { try PCISpec(parsing: text) }
    func address(_ text: String) throws -> PCIAddress { try PCIAddress(parsing: text) }

    @Test func addKeepsCommentsAndAppendsOnTheSameLine() throws {
        let text = """
            # web1: a PV guest
            name = "web1"   # the name xl shows
            pci = [ '0000:04:10.0,permissive=1' ] # its VF
            memory = 2048

            """
        let edit = try DomainConfigPCIList.add([spec("04:10.4"), spec("04:11.0@03,permissive=1")], to: text, filename: "web1.cfg")
        #expect(edit.edited == """
            # web1: a PV guest
            name = "web1"   # the name xl shows
            pci = [ '0000:04:10.0,permissive=1', '0000:04:10.4', '0000:04:11.0@03,permissive=1' ] # its VF
            memory = 2048

            """)
        #expect(edit.after == ["0000:04:10.0,permissive=1", "0000:04:10.4", "0000:04:11.0@03,permissive=1"])
    }

    @Test func addToAListOverSeveralLinesFollowsItsLayout() throws {
        let text = """
            pci = [
                '0000:04:10.0',   # first VF
                '04:10.4'
            ]
            vcpus = 2

            """
        let edit = try DomainConfigPCIList.add([spec("04:11.0")], to: text, filename: "a.cfg")
        #expect(edit.edited == """
            pci = [
                '0000:04:10.0',   # first VF
                '04:10.4',
                '0000:04:11.0'
            ]
            vcpus = 2

            """)
        let trailing = try DomainConfigPCIList.add([spec("04:11.0")], to: "pci = [\n  '04:10.0', # x\n]\n", filename: "b.cfg")
        #expect(trailing.edited == "pci = [\n  '04:10.0', # x\n  '0000:04:11.0',\n]\n")
    }

    @Test func addCreatesAnAbsentList() throws {
        let edit = try DomainConfigPCIList.add([spec("04:10.0,permissive=1")], to: "name = \"x\"\nmemory = 512", filename: "x.cfg")
        #expect(edit.before == nil)
        #expect(edit.edited == "name = \"x\"\nmemory = 512\npci = [ '0000:04:10.0,permissive=1' ]\n")
        let empty = try DomainConfigPCIList.add([spec("04:10.0")], to: "pci = []\n", filename: "e.cfg")
        #expect(empty.edited == "pci = [ '0000:04:10.0' ]\n")
    }

    @Test func aDevicePresentByBDFIsNotAddedTwice() throws {
        let text = "pci = [ '04:10.0,permissive=1' ]\n"
        let edit = try DomainConfigPCIList.add([spec("0000:04:10.0"), spec("04:10.4"), spec("04:10.4,seize=1")],
                                               to: text, filename: "d.cfg")
        #expect(edit.edited == "pci = [ '04:10.0,permissive=1', '0000:04:10.4' ]\n")
        #expect(edit.notes.count == 2)
        let same = try DomainConfigPCIList.add([spec("04:10.0")], to: text, filename: "d.cfg")
        #expect(same.edited == text)
    }

    @Test func theLastAssignmentAndAppendsAreWhatCounts() throws {
        let text = """
            pci = [ '0000:01:00.0' ]
            pci = [ '0000:04:10.0' ]
            pci += [ '0000:04:10.4' ]

            """
        let edit = try DomainConfigPCIList.add([spec("01:00.0")], to: text, filename: "p.cfg")
        #expect(edit.before == ["0000:04:10.0", "0000:04:10.4"], "the first list is replaced by the second")
        #expect(edit.edited.hasSuffix("pci += [ '0000:04:10.4', '0000:01:00.0' ]\n"))
    }

    @Test func removeTakesItemsCommasAndTheirLines() throws {
        let text = """
            pci = [
                '0000:04:10.0',   # web
                '0000:04:10.4',   # db
            ]
            other = [ 'a' ]
            pci += [ '0000:04:11.0', '0000:04:11.4' ]

            """
        let edit = try DomainConfigPCIList.remove([address("04:10.4"), address("04:11.0")], from: text, filename: "r.cfg")
        #expect(edit.edited == """
            pci = [
                '0000:04:10.0',   # web
            ]
            other = [ 'a' ]
            pci += [ '0000:04:11.4' ]

            """)
        let all = try DomainConfigPCIList.remove([address("04:11.0"), address("04:11.4")], from: "pci = [ '04:11.0', '04:11.4' ]\n", filename: "s.cfg")
        // The only pci setting, emptied: it goes, leaving the file as it was before anything was added.
        #expect(all.edited == "")
        #expect(all.after.isEmpty)
    }

    @Test func aNestedListElsewhereIsLeftAlone() throws {
        let text = """
            cpus = [ [ '0-3' ], '4' ]   # libxlutil reads nested lists; xl has no use for this one
            pci = [ [ '0000:01:00.0' ] ]
            pci = [ '0000:04:10.0' ]

            """
        let added = try DomainConfigPCIList.add([spec("04:10.4")], to: text, filename: "n.cfg")
        #expect(added.edited == text.replacingOccurrences(of: "pci = [ '0000:04:10.0' ]", with: "pci = [ '0000:04:10.0', '0000:04:10.4' ]"))
        let removed = try DomainConfigPCIList.remove([address("04:10.0")], from: text, filename: "n.cfg")
        #expect(removed.edited == text.replacingOccurrences(of: "pci = [ '0000:04:10.0' ]", with: "pci = [ ]"))
    }

    @Test func commentsBetweenItemsAndCommasStay() throws {
        let text = """
            pci = [ # passthrough
                '0000:04:10.0' # web, its comma on the next line
                , '0000:04:10.4', # db
                # spare
                '0000:04:11.0'
            ]

            """
        let first = try DomainConfigPCIList.remove([address("04:10.0")], from: text, filename: "c.cfg")
        #expect(first.edited == """
            pci = [ # passthrough
                '0000:04:10.4', # db
                # spare
                '0000:04:11.0'
            ]

            """)
        let middle = try DomainConfigPCIList.remove([address("04:10.4")], from: text, filename: "c.cfg")
        #expect(middle.edited.contains("\n    , # db\n    # spare\n    '0000:04:11.0'\n]"))
        #expect(middle.after == ["0000:04:10.0", "0000:04:11.0"])
        let last = try DomainConfigPCIList.remove([address("04:11.0")], from: text, filename: "c.cfg")
        #expect(last.edited.hasSuffix(", '0000:04:10.4', # db\n    # spare\n]\n"))
        let added = try DomainConfigPCIList.add([spec("04:12.0")], to: text, filename: "c.cfg")
        #expect(added.edited.hasSuffix("    '0000:04:11.0',\n    '0000:04:12.0'\n]\n"))
        // A trailing comma on a later line than the last item stays last.
        let commaFirst = try DomainConfigPCIList.add([spec("04:12.0")], to: "pci = [ '04:10.0' # a\n , ]\n", filename: "c.cfg")
        #expect(commaFirst.edited == "pci = [ '04:10.0', # a\n    '0000:04:12.0'\n , ]\n")
    }

    @Test func aFirstAppendIsTheList() throws {
        let text = "name = \"x\"\npci += [ '0000:04:10.0' ]\n"
        let added = try DomainConfigPCIList.add([spec("04:10.4")], to: text, filename: "a.cfg")
        #expect(added.before == ["0000:04:10.0"])
        #expect(added.edited == "name = \"x\"\npci += [ '0000:04:10.0', '0000:04:10.4' ]\n")
        let removed = try DomainConfigPCIList.remove([address("04:10.0")], from: text, filename: "a.cfg")
        #expect(removed.edited == "name = \"x\"\n")
    }

    /// Every way of removing items from lists laid out in every way xl accepts leaves a file libxlutil
    /// reads as the list without them (`finish` refuses any other result), and adding works on each.
    @Test("removing any items keeps the file valid", arguments: [
        "pci = [ 'A', 'B', 'C' ]\n",
        "pci = [ 'A', 'B', 'C', ]\n",
        "pci = ['A','B','C']\n",
        "pci = [\n    'A',  # a\n    # about B\n    'B',  # b\n    'C',  # c\n]\n",
        "pci = [\n    'A',\n    'B',\n    'C'\n]\n",
        "pci = [ 'A'\n      , 'B' # b\n      , 'C'\n      ]\n",
        "pci = [ 'A', 'B',\n  'C' ]\n",
        "pci = [ 'A' # a\n , 'B'\n # x\n ,\n 'C' ]\n",
        "pci = [ 'A' ]\npci += [ 'B',\n 'C' ]\n",
        "pci = [ 'C' ]; pci = [ 'A', 'B' ] ; pci += [ 'C' ]\n",
        "memory = 512 # keep\npci = [ 'A', # a\n 'B' ] # b\npci += [ 'C', ]; vcpus = 2\n",
    ])
    func removingAnyItems(layout: String) throws {
        let names = ["A": "0000:04:10.0", "B": "0000:04:10.4", "C": "0000:04:11.0"]
        var text = layout
        for (letter, item) in names { text = text.replacingOccurrences(of: "'\(letter)'", with: "'\(item)'") }
        let all = try address("04:10.0"), b = try address("04:10.4"), c = try address("04:11.0")
        for subset in [[all], [b], [c], [all, b], [all, c], [b, c], [all, b, c]] {
            let edit = try DomainConfigPCIList.remove(subset, from: text, filename: "l.cfg")
            #expect(edit.after == ["0000:04:10.0", "0000:04:10.4", "0000:04:11.0"].filter { item in
                !subset.contains { $0.description == item } })
            #expect(!edit.edited.contains("\n\n]"), "no blank line left: \(edit.edited)")
            if text.contains("# keep") { #expect(edit.edited.hasPrefix("memory = 512 # keep\n")) }
        }
        let added = try DomainConfigPCIList.add([spec("04:12.0")], to: text, filename: "l.cfg")
        #expect(added.after == ["0000:04:10.0", "0000:04:10.4", "0000:04:11.0", "0000:04:12.0"])
    }

    @Test("refusals", arguments: [
        ("name = \"x\"\npci = [ '04:10.0' \n", "config parsing error"),        // no closing bracket
        ("pci = [ '04:10.0' ]\nmemory = 1 2\n", "config parsing error"),       // malformed elsewhere
        ("pci = '04:10.0'\n", "is not a list"),
        ("pci = [ '04:10.0,permissive=yes' ]\n", "differently from what it says (permissive); fix it first: write '0000:04:10.0,permissive=1'"),
        ("pci = [ [ '04:10.0' ] ]\n", "item 1 of `pci' is not a string"),
    ])
    func refusals(text: String, message: String) throws {
        do {
            _ = try DomainConfigPCIList.add([spec("04:11.0")], to: text, filename: "bad.cfg")
            Issue.record("accepted \(text)")
        } catch let error as DomainConfigError {
            #expect(error.description.contains(message), "\(error)")
            #expect(error.description.hasPrefix("bad.cfg"), "\(error)")
        }
    }

    @Test func removingADeviceNotInTheListChangesNothingAndSaysSo() throws {
        let listed = try DomainConfigPCIList.remove([address("04:11.0")], from: "pci = [ '04:10.0' ]\n", filename: "m.cfg")
        #expect(listed.edited == listed.original)
        #expect(listed.notes == ["0000:04:11.0 is not in the pci list of m.cfg (it has: 04:10.0); nothing to remove"])
        let none = try DomainConfigPCIList.remove([address("04:11.0")], from: "name = \"m\"\n", filename: "m.cfg")
        #expect(none.edited == none.original)
        #expect(none.notes == ["m.cfg has no pci setting; there is nothing to remove"])
    }

    @Test("the example configs in xlcfg/ parse with libxlutil", arguments: ["pv-domu.cfg", "hvm-domu.cfg"])
    func examplesParse(name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("xlcfg/" + name)
        let text = try String(contentsOf: url, encoding: .utf8)
        let pci = try #require(try XLConfig(parsing: text, filename: name).stringList("pci"))
        #expect(!pci.isEmpty)
        for item in pci { #expect(try PCISpec(parsing: item).canonical == item, "examples are in canonical form") }
        // And they can be edited.
        let edit = try DomainConfigPCIList.add([spec("0000:06:00.0")], to: text, filename: name)
        #expect(edit.after == pci + ["0000:06:00.0"])
    }

    @Test func newItemsTakeTheListsQuotesAndAnEmptiedListLeavesTheFileAsItWas() throws {
        let double = try DomainConfigPCIList.add([spec("04:10.4")], to: "pci = [ \"0000:04:10.0\" ]\n", filename: "d.cfg")
        #expect(double.edited == "pci = [ \"0000:04:10.0\", \"0000:04:10.4\" ]\n")
        let before = "name = \"web1\"\nmemory = 512\n"
        let added = try DomainConfigPCIList.add([spec("04:10.4")], to: before, filename: "w.cfg")
        #expect(try DomainConfigPCIList.remove([address("04:10.4")], from: added.edited, filename: "w.cfg").edited == before)
        // A comment on its own line inside the list stays there; the comma the new last item no longer needs goes.
        let commented = "pci = [ '04:10.0',\n  # the db NIC\n  '04:10.4' ]\n"
        let removed = try DomainConfigPCIList.remove([address("04:10.4")], from: commented, filename: "c.cfg")
        #expect(removed.edited == "pci = [ '04:10.0'\n  # the db NIC\n ]\n")
    }
}
