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
}
