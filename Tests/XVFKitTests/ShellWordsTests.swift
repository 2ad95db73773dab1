import Testing
@testable import XVFKit

/// `--ssh` is split as xl's `sh -c "exec SSH HOST xl migrate-receive"` splits it, so that xvf's own
/// commands on the target reach it the way xl's receiver does; what only a shell can do is refused.
@Suite struct ShellWordsTests {
    @Test func plainWordsAndQuotesSplitAsAShellDoes() throws {
        #expect(try ShellWords.split("ssh") == ["ssh"])
        #expect(try ShellWords.split("  ssh\t-p 2222  ") == ["ssh", "-p", "2222"])
        #expect(try ShellWords.split("ssh -o 'ProxyCommand=ssh -W %h:%p jump'") == ["ssh", "-o", "ProxyCommand=ssh -W %h:%p jump"])
        #expect(try ShellWords.split(#"ssh -i "/root/my keys/id" -l\ root"#) == ["ssh", "-i", "/root/my keys/id", "-l root"])
        #expect(try ShellWords.split(#""a\"b\\c\d""#) == [#"a"b\c\d"#])
        #expect(try ShellWords.split("''") == [""])
        #expect(try ShellWords.split("") == [])
    }

    @Test(arguments: ["ssh -i $HOME/key", "ssh `cat host`", "ssh; reboot", "ssh | tee", "ssh > log", "ssh *", "ssh ~/x",
                      "ssh #c", "ssh 'open", "ssh \"open", "ssh \"$X\"", "ssh \\"])
    func whatNeedsAShellIsRefused(_ text: String) {
        #expect(throws: ShellWords.Problem.self) { try ShellWords.split(text) }
    }

    @Test func quotingReadsBackAsTheSameWords() throws {
        for word in ["dom0-b", "root@dom0-b", "xl migrate-receive", "it's", "", "a\"b", "$HOME"] {
            #expect(try ShellWords.split(ShellWords.quote(word)) == [word])
        }
        #expect(ShellWords.quote("root@dom0-b") == "root@dom0-b")
        #expect(ShellWords.quote("xl migrate-receive") == "'xl migrate-receive'")
    }
}
