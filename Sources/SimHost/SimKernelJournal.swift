#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import Synchronization

/// The simulated kernel's undo journal. One write to a simulated attribute changes many files (VFs
/// appear with their links, a driver takes a device and its interface), where the real kernel does all of
/// it inside one system call. Before each file the simulated kernel changes, the journal keeps what was
/// there; when the write is done the journal is removed. A process killed in between leaves the journal
/// behind, and the next simulated write, or `xvf-sim xvf` before xvf reads the tree, puts every kept file
/// back: the write then never happened, as for a system call that never ran.
public enum SimKernelJournal {
    /// At the tree's top, beside the marker file: not part of the simulated sysfs.
    public static let file = "xvf-simulated-kernel-journal"

    /// The journal of each tree with a write in progress in this process, by the tree's path (the tests
    /// build and change many trees at once, each from one thread); a tree without one is written as it is
    /// (building a host writes its files without a journal).
    private static let open = Mutex<[String: Int32]>([:])

    /// Runs one simulated write with its journal.
    static func around<T>(_ root: HostRoot, _ body: () throws(SysfsError) -> T) throws(SysfsError) -> T {
        // A write made while carrying out another is part of that one.
        if open.withLock({ $0[root.prefix] != nil }) { return try body() }
        recover(root)
        let descriptor = Glibc.open(root.path(file), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        precondition(descriptor >= 0, "simulated host: cannot write \(root.path(file))")
        open.withLock { $0[root.prefix] = descriptor }
        defer {
            open.withLock { $0[root.prefix] = nil }
            close(descriptor)
            unlink(root.path(file))
        }
        return try body()
    }

    /// Keeps what is at `relative` now (a whole tree for a directory), before the simulated kernel
    /// changes it. Each entry is one line, appended whole; a line cut short by a kill is ignored, and its
    /// change had not been made.
    static func keep(_ relative: String, in root: HostRoot) {
        guard let descriptor = open.withLock({ $0[root.prefix] }) else { return }
        SimInterruption.fileChange(relative)
        var lines: [String] = []
        describe(relative, root: root, into: &lines)
        let text = Array(lines.map { $0 + "\n" }.joined().utf8)
        _ = text.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Children before their directory, so that the journal read backwards makes a directory before
    /// what was in it.
    private static func describe(_ relative: String, root: HostRoot, into lines: inout [String]) {
        let path = root.path(relative)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            lines.append("absent \(hex(relative))")
            return
        }
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            lines.append("link \(hex(relative)) \(hex(root.readLink(relative) ?? ""))")
        case S_IFDIR:
            for name in entries(path) { describe(relative + "/" + name, root: root, into: &lines) }
            lines.append("directory \(hex(relative))")
        default:
            lines.append("file \(hex(relative)) \(hex(root.readFile(relative) ?? []))")
        }
    }

    /// Puts back what an interrupted write had changed, newest change first, and removes the journal.
    public static func recover(_ root: HostRoot) {
        guard let bytes = root.readFile(file) else { return }
        var text = String(decoding: bytes, as: UTF8.self)
        if let end = text.lastIndex(of: "\n") { text = String(text[...end]) } else { text = "" }
        let tree = SimTree(root: root)
        for line in text.split(separator: "\n").reversed() {
            let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard words.count >= 2, let relative = unhex(words[1]).map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            switch words[0] {
            case "absent":
                tree.removeTree(relative)
            case "link" where words.count == 3:
                tree.removeTree(relative)
                symlink(String(decoding: unhex(words[2]) ?? [], as: UTF8.self), root.path(relative))
            case "directory":
                var info = stat()
                if lstat(root.path(relative), &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR { tree.removeTree(relative) }
                mkdir(root.path(relative), 0o755)
            case "file" where words.count == 3:
                tree.removeTree(relative)
                tree.write(relative, bytes: unhex(words[2]) ?? [])
            default:
                continue
            }
        }
        unlink(root.path(file))
    }

    private static func entries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private static func hex(_ text: String) -> String { hex(Array(text.utf8)) }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "x")]
        out.reserveCapacity(bytes.count * 2 + 1)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func unhex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.first == UInt8(ascii: "x"), chars.count % 2 == 1 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 1
        while i < chars.count {
            guard let high = value(chars[i]), let low = value(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}
