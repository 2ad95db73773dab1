import Testing
import XenPCI

/// The line numbers `xvf boot` puts in its errors come from this scan; libxlutil must agree on the values.
@Suite struct XLStatementsTests {
    @Test func keysItemsAndTheirLines() throws {
        let text = """
            # a comment with 'quotes' and [brackets]
            sriov = [ 'eno49,vfs=7',   # trailing comment
                      "eno52,vfs=2", ]
            vf = [ 'eno49/0,mac=52:54:00:00:49:00' ]; assignable = [ 'eno49/0' ]
            assignable += [
              'eno49/1,name=it\\'s' ]
            memory = 512
            nested = [ [ 'a' ], 'b' ]

            """
        let layout = XLStatements(scanning: text)
        #expect(layout.keys == ["sriov", "vf", "assignable", "memory", "nested"])
        #expect(layout.items(of: "sriov") == [.init(value: "eno49,vfs=7", line: 2), .init(value: "eno52,vfs=2", line: 3)])
        #expect(layout.items(of: "assignable") == [.init(value: "eno49/0", line: 4), .init(value: "eno49/1,name=it's", line: 6)])
        #expect(layout.line(of: "assignable") == 5)
        #expect(layout.line(of: "memory") == 7)
        #expect(layout.items(of: "memory") == nil)
        #expect(layout.items(of: "nested") == nil)
        #expect(layout.items(of: "absent") == nil)
        // libxlutil reads the same lists.
        let config = try XLConfig(parsing: text, filename: "host.cfg")
        #expect(try config.stringList("sriov") == layout.items(of: "sriov")?.map(\.value))
        #expect(try config.stringList("assignable") == layout.items(of: "assignable")?.map(\.value))
    }

    @Test func theLastAssignmentWins() throws {
        let text = "vf = [ 'a' ]\nvf = [ 'b',\n 'c' ]\n"
        #expect(XLStatements(scanning: text).items(of: "vf") == [.init(value: "b", line: 2), .init(value: "c", line: 3)])
        #expect(try XLConfig(parsing: text, filename: "x.cfg").stringList("vf") == ["b", "c"])
    }

    @Test func placesOfTheListItsElementsAndCommas() throws {
        let text = "a = 1\npci += [ 'x',  # c\n  \"y\" # d\n  , 7 ]; b = [ [ 'n' ], 'm' ]\n"
        let bytes = Array(text.utf8)
        func at(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        let layout = XLStatements(scanning: text)
        #expect(layout.statements.map(\.key) == ["a", "pci", "b"])
        let pci = layout.statements[1]
        #expect(pci.appends && pci.line == 2)
        #expect(at(pci.range) == "pci += [ 'x',  # c\n  \"y\" # d\n  , 7 ]")
        let list = try #require(pci.list)
        #expect(bytes[list.open] == UInt8(ascii: "[") && bytes[list.close] == UInt8(ascii: "]"))
        #expect(list.elements.map { at($0.range) } == ["'x'", "\"y\"", "7"])
        #expect(list.elements.map(\.line) == [2, 3, 4])
        // The comma after "y" is on the next line, past a comment; 7 has none.
        #expect(list.elements.map { $0.comma.map { bytes[$0] } } == [UInt8(ascii: ","), UInt8(ascii: ","), nil])
        #expect(list.elements[1].comma.map { at(list.elements[1].range.upperBound..<$0) } == " # d\n  ")
        // A number is an item (libxlutil hands out its text); a nested list is an element but no item.
        #expect(layout.items(of: "pci")?.map(\.value) == ["x", "y", "7"])
        #expect(layout.statements[0].list == nil)
        let b = try #require(layout.statements[2].list)
        #expect(b.elements.map { at($0.range) } == ["[ 'n' ]", "'m'"])
        #expect(b.elements.map(\.value) == [nil, "m"])
        #expect(b.items == nil)
    }

    /// What the scan reads from text libxlutil accepts is what libxlutil reads, key by key.
    @Test("agrees with libxlutil", arguments: [
        "a = [ 'x', # c\n # d\n 'y' ]\n",
        "a = [ 'x' # c\n , 'y' ]\n",
        "a = [\n\n 'x'\n\n ,\n\n 'y'\n\n ]\n",
        "a = [ 'x', 'y', ]\n",
        "a += [ 'x' ]\n",
        "a = 'q'\na = [ 'x' ]\n",
        "a = [ 'p' ]\na += [ 'x' ]\na = [ 'z' ]\na += [ 'w' ]\n",
        "a = [ 1, 0x1f, 'x' ]\n",
        "a = [ 'l\\nm\\tn', \"o\\\"p\", 'q\\\\r', 'it\\'s', \"it's\", 's\\at\\bu\\fv\\rw\\vx' ]\n",
        "a = [ 'h\u{e9}' ] # \u{e9} [ ' \"\n",
        ";;\nb = [ [ 'x' ], 'y' ]; a = [ 'x' ];;\n",
        "b = 'not a list # or [ a list'\na = [ '#x', '[', ']', ';', ',' ]\n",
        "a.b = [ 'x' ]\na_c = [ 'y' ]\na = [ 'z' ]\n",
        "  # indented comment\n\ta = [ 'x' ]#c\n",
        "a = [ 'x' ]",
        "a = []\n",
    ])
    func agreesWithLibxlutil(text: String) throws {
        let config = try XLConfig(parsing: text, filename: "a.cfg")
        let layout = XLStatements(scanning: text)
        for key in layout.keys {
            guard let read = try? config.stringList(key) else { continue }
            #expect(layout.items(of: key)?.map(\.value) == read, "\(key) in \(text.debugDescription)")
        }
        #expect(layout.keys.contains("a"))
    }

    /// libxlutil's numeric escapes are not copied: such an item reads differently here, which callers see.
    @Test func numericEscapesAreNotResolved() throws {
        let text = "a = [ 'a\\101b' ]\n"
        let read = try XLConfig(parsing: text, filename: "a.cfg").stringList("a")
        #expect(XLStatements(scanning: text).items(of: "a")?.map(\.value) == ["a\\101b"])
        #expect(read != ["a\\101b"])
    }

    /// Text libxlutil rejects never reaches the scan in xvf; were it to, the scan still returns.
    @Test("ends on text libxlutil rejects", arguments: [
        "a = 'x\nb = [ 'y' ]\n", "a = [ 'x'\nb = 1\n", "a =\nb = [ 'y' ]\n", "] , = ; [[[", "a = [ 'x\\", "a = 'x\\\n",
        "a b c = [ 'y' ]\n", "\u{0}\u{ff}a = [ \u{0} ]",
    ])
    func endsOnRejectedText(text: String) {
        #expect(throws: XLConfigError.self) { try XLConfig(parsing: text, filename: "bad.cfg") }
        let layout = XLStatements(scanning: text)
        for statement in layout.statements {
            #expect(statement.range.upperBound <= text.utf8.count)
            if let list = statement.list { #expect(list.close < text.utf8.count) }
        }
    }

    @Test func anUnclosedStringEndsAtItsLine() {
        let layout = XLStatements(scanning: "a = 'x\nb = [ 'y' ]\n")
        #expect(layout.items(of: "b") == [.init(value: "y", line: 2)])
    }
}
