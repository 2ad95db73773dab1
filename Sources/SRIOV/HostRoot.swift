#if canImport(Glibc)
import Glibc
#endif

/// The root of the host xvf looks at: `/` on a real machine, a temporary tree in tests and the demo.
///
/// Every read and write of host state (sysfs, /proc, /etc, /run) goes through here, by a path relative
/// to the root. It talks to libc directly: discovery reads thousands of tiny sysfs files, and a
/// syscall per file is what keeps `xvf list` fast on hosts with thousands of VFs.
public struct HostRoot: Sendable {
    /// The absolute path of the root, without a trailing slash ("" for `/`).
    public let prefix: String
    /// What carries out writes to kernel attributes; a simulated kernel in tests and the demo.
    public let attributeWriter: any AttributeWriter
    /// Told of every change made through this root (and its copies); nil when nobody records them.
    public var observer: (any HostChangeObserver)?

    public init(_ path: String = "/", attributeWriter: (any AttributeWriter)? = nil) {
        var p = path
        if !p.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            // Relative roots are taken from the working directory, so every path built here is absolute.
            p = String(cString: cwd) + "/" + p
            free(cwd)
        }
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        prefix = p == "/" ? "" : p
        self.attributeWriter = attributeWriter ?? KernelAttributeWriter()
    }

    /// Whether this root is the running system's own `/` (also when named `/.`, `//` or through a link).
    public var isRunningSystem: Bool {
        if prefix.isEmpty { return true }
        guard let real = realpath(prefix, nil) else { return false }
        defer { free(real) }
        return String(cString: real) == "/"
    }

    /// The root as the user named it, for messages.
    public var displayPath: String { prefix.isEmpty ? "/" : prefix }

    /// The absolute path of `relative` ("sys/bus/pci/devices") under the root.
    public func path(_ relative: String) -> String {
        relative.hasPrefix("/") ? prefix + relative : prefix + "/" + relative
    }

    /// The path relative to the root of an absolute path inside it, or nil when it lies outside.
    public func relative(_ absolute: String) -> String? {
        if prefix.isEmpty { return absolute.hasPrefix("/") ? String(absolute.dropFirst()) : nil }
        guard absolute.hasPrefix(prefix + "/") else { return nil }
        return String(absolute.dropFirst(prefix.count + 1))
    }

    // MARK: reading

    /// The contents of a file, or nil when it cannot be read.
    public func readFile(_ relative: String) -> [UInt8]? {
        SRIOV.readFile(atPath: path(relative))
    }

    /// A file's text with the trailing newline and spaces removed; nil when it cannot be read.
    public func readText(_ relative: String) -> String? {
        FileReader.text(path(relative))
    }

    /// A sysfs number: decimal, or hexadecimal with `0x`.
    public func readInteger(_ relative: String) -> Int? {
        FileReader.integer(path(relative))
    }

    /// A hexadecimal attribute written without `0x` (`sriov_vf_device` says "1520").
    public func readHexInteger(_ relative: String) -> Int? {
        FileReader.text(path(relative)).flatMap(FileReader.hexadecimal)
    }

    /// Where a symbolic link points, as stored in the link.
    public func readLink(_ relative: String) -> String? {
        FileReader.link(path(relative))
    }

    /// The last path component a link points to (`driver` → "igb", `iommu_group` → "17").
    public func linkTarget(_ relative: String) -> String? {
        readLink(relative).map(lastComponent)
    }

    /// The driver a device is bound to now, as its `driver` link names it; nil when it has none.
    public func driver(of device: PCIAddress) -> String? {
        linkTarget("sys/bus/pci/devices/\(device)/driver")
    }

    /// Reads many files of one directory through one open descriptor: the kernel resolves the long
    /// sysfs path (and its symlinks) once instead of once per file. A directory that cannot be opened
    /// reads as empty.
    public func withDirectory<T>(_ relative: String, _ body: (Directory) throws -> T) rethrows -> T {
        let fd = path(relative).withCString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { if fd >= 0 { close(fd) } }
        return try body(Directory(fd: fd))
    }

    /// Files of one directory, read by name (`vendor`, `driver`, `net/eno49/address`).
    ///
    /// Names reach the kernel through `withCString` and values come back off a stack buffer: a String
    /// passed as a C string is copied to the heap first, and discovery asks for thousands of values.
    public struct Directory {
        let fd: Int32

        public func text(_ name: String) -> String? {
            guard fd >= 0 else { return nil }
            let file = name.withCString { openat(fd, $0, O_RDONLY | O_CLOEXEC) }
            guard file >= 0 else { return nil }
            defer { close(file) }
            return withBytes(from: file, singleRead: true, FileReader.trimmedText)
        }

        public func integer(_ name: String) -> Int? { text(name).flatMap(FileReader.parseInteger) }
        public func hexInteger(_ name: String) -> Int? { text(name).flatMap(FileReader.hexadecimal) }

        public func linkTarget(_ name: String) -> String? {
            guard fd >= 0 else { return nil }
            // Only the last component becomes a String: a driver or group name, short enough to need no
            // heap storage.
            return withLink(at: fd, name, lastComponent)
        }

        /// A directory inside this one, through its own descriptor for the length of `body`.
        public func withDirectory<T>(_ name: String, _ body: (Directory) throws -> T) rethrows -> T {
            let sub = fd < 0 ? -1 : name.withCString { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            defer { if sub >= 0 { close(sub) } }
            return try body(Directory(fd: sub))
        }

        public func list(_ name: String = ".") -> [String] {
            guard fd >= 0 else { return [] }
            let sub = name.withCString { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            guard sub >= 0, let dir = fdopendir(sub) else { return [] }
            defer { closedir(dir) }
            return readEntries(dir)
        }
    }

    public func list(_ relative: String) -> [String] {
        listDirectory(path(relative))
    }

    public func exists(_ relative: String) -> Bool {
        access(path(relative), F_OK) == 0
    }

    public func isDirectory(_ relative: String) -> Bool {
        var info = stat()
        return stat(path(relative), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The canonical path of `relative` inside the root (links resolved), relative to the root.
    public func resolve(_ relative: String) -> String? {
        guard let real = realpath(path(relative), nil) else { return nil }
        defer { free(real) }
        return self.relative(String(cString: real))
    }

    // MARK: writing

    /// Writes a kernel attribute (sysfs file) as one `write(2)`, the way the kernel expects it.
    public func writeAttribute(_ relative: String, _ value: String) throws(SysfsError) {
        do {
            try attributeWriter.write(value, to: relative, in: self)
        } catch {
            observer?.observe(.attribute(path: relative, value: value), failure: error)
            throw error
        }
        observer?.observe(.attribute(path: relative, value: value), failure: nil)
    }

    /// The same root with nobody recording its changes: for a backend's own writes (the simulated
    /// toolstack's sysfs), which stand for one toolstack step the command already records.
    public var unobserved: HostRoot {
        var copy = self
        copy.observer = nil
        return copy
    }

    /// Tells the observer of a change made outside the root's own methods (a program run).
    public func report(_ change: HostChange, failure: (any Error)?) {
        observer?.observe(change, failure: failure)
    }

    /// Where a path under the root really leads, as a path relative to the root with every link and `..`
    /// resolved; nil when it leads outside the root (`etc/../../x`, a link to `/etc/…`), as Linux would
    /// follow it. Missing parts (a file about to be created, in a directory about to be made) are taken
    /// as written; a `..` after a missing part cannot be followed and is refused.
    public func contained(_ relative: String) -> String? {
        guard let top = canonicalPath(prefix.isEmpty ? "/" : prefix),
              let real = Self.followLeniently(path(relative), hops: 0) else { return nil }
        if top == "/" { return String(real.dropFirst()) }
        if real == top { return "" }
        guard real.hasPrefix(top + "/") else { return nil }
        return String(real.dropFirst(top.count + 1))
    }

    /// The canonical form of an absolute path whose tail may not exist yet: realpath where it exists,
    /// dangling links followed by hand (at most 40, as the kernel does), the rest appended as written.
    private static func followLeniently(_ absolute: String, hops: Int) -> String? {
        if let real = canonicalPath(absolute) { return real }
        guard hops < 40, let slash = absolute.lastIndex(of: "/") else { return nil }
        let directory = slash == absolute.startIndex ? "/" : String(absolute[..<slash])
        let name = String(absolute[absolute.index(after: slash)...])
        if let target = FileReader.link(absolute) {
            let next = target.hasPrefix("/") ? target : (directory == "/" ? "" : directory) + "/" + target
            return followLeniently(next, hops: hops + 1)
        }
        if name.isEmpty || name == "." { return followLeniently(directory, hops: hops) }
        if name == ".." { return nil }
        guard let parent = followLeniently(directory, hops: hops) else { return nil }
        return (parent == "/" ? "" : parent) + "/" + name
    }

    /// Removes a file; a file that is already gone is fine.
    public func removeFile(_ relative: String) throws(FileError) {
        if unlink(path(relative)) != 0 {
            if errno == ENOENT { return }
            let error = FileError(path: path(relative), errno: errno)
            observer?.observe(.removedFile(path: relative), failure: error)
            throw error
        }
        observer?.observe(.removedFile(path: relative), failure: nil)
    }
}

/// Reading by absolute path, shared by `HostRoot` and `HostRoot.Directory`.
enum FileReader {
    static func text(_ path: String) -> String? {
        withContents(ofFile: path, trimmedText)
    }

    /// The text without the trailing newline, spaces and NULs sysfs values end with.
    static func trimmedText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0a || bytes[end - 1] == 0x20 || bytes[end - 1] == 0x00 { end -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
    }

    static func integer(_ path: String) -> Int? {
        text(path).flatMap(parseInteger)
    }

    /// Decimal, or hexadecimal with `0x`.
    static func parseInteger(_ text: String) -> Int? {
        text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
    }

    static func hexadecimal(_ text: String) -> Int? {
        Int(text.hasPrefix("0x") ? text.dropFirst(2) : Substring(text), radix: 16)
    }

    static func link(_ path: String) -> String? {
        withLink(at: AT_FDCWD, path) { String(decoding: $0, as: UTF8.self) }
    }
}

func listDirectory(_ path: String) -> [String] {
    guard let dir = path.withCString({ opendir($0) }) else { return [] }
    defer { closedir(dir) }
    return readEntries(dir)
}

func readEntries(_ dir: OpaquePointer) -> [String] {
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Reads a whole file by its own path (a file the user named, outside any host root): one open and
/// as few reads as it takes; nil when it cannot be read (errno says why).
public func readFile(atPath path: String) -> [UInt8]? {
    // O_NONBLOCK: a FIFO in place of a file reads as empty instead of waiting for a writer for ever.
    let fd = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    // Into a buffer of the size fstat gives, left uninitialised: pci.ids is 1.3 MB, and reading it a
    // kilobyte at a time into a growing array, or zeroing its buffer first, cost more than searching it.
    // One byte more than that size, so a full buffer means the file is longer than it said (procfs says
    // 0) and the rest is read on.
    var status = stat()
    let capacity = fstat(fd, &status) == 0 ? max(Int(status.st_size), 0) + 1 : 1
    var failed = false
    var bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
        while count < buffer.count {
            let n = read(fd, buffer.baseAddress! + count, buffer.count - count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { failed = true }
            if n <= 0 { return }
            count += n
        }
    }
    if failed { return nil }
    if bytes.count == capacity {
        guard let rest = withBytes(from: fd, { Array($0) }) else { return nil }
        bytes += rest
    }
    return bytes
}

/// A whole file's bytes, handed to `body`; nil when it cannot be opened or read.
func withContents<T>(ofFile path: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
    // O_NONBLOCK: a FIFO in place of a file reads as empty instead of waiting for a writer for ever.
    let fd = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return withBytes(from: fd, body)
}

/// The bytes a symbolic link holds (`name` relative to the directory `fd`, or absolute), handed to `body`;
/// nil when it is not a link or cannot be read.
func withLink<T>(at fd: Int32, _ name: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
    name.withCString { name -> T? in
        // sysfs links are short: a buffer this size stays on the stack (a bigger one goes to the heap,
        // for every one of thousands of links), and a target that fills it is read again at full length.
        var length = -1
        let short = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackBufferSize) { buffer -> T? in
            length = buffer.withMemoryRebound(to: CChar.self) { readlinkat(fd, name, $0.baseAddress!, $0.count) }
            guard length >= 0, length < buffer.count else { return nil }
            return body(UnsafeBufferPointer(rebasing: buffer[..<length]))
        }
        if length < stackBufferSize { return short }  // read whole, or no link (-1)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(fd, name, &buffer, buffer.count)
        guard n >= 0, n < buffer.count else { return nil }
        return buffer.withUnsafeBytes { body(UnsafeBufferPointer(rebasing: $0.bindMemory(to: UInt8.self)[..<n])) }
    }
}

/// The most `withBytes` reads of one file (/proc/self/mountinfo, modules.alias and the kernel log are the
/// largest it reads: well under a megabyte each).
let readSizeLimit = 64 << 20

/// What `withUnsafeTemporaryAllocation` keeps on the stack without asking: up to 1 KiB. A bigger buffer
/// is the runtime's to place, and here (Linux, Swift 6.3) it goes to the heap every time.
let stackBufferSize = 1024

/// Reads an open file to its end and hands its bytes to `body`; nil when a read fails. `singleRead` is
/// for sysfs attributes, which hand over their whole value (at most a page) in the first read, so a
/// short first read is the end; procfs files are not so.
func withBytes<T>(from fd: Int32, singleRead: Bool = false, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
    // A stack buffer: discovery reads thousands of small files, and a heap copy of each shows up.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackBufferSize) { chunk -> T? in
        var result: [UInt8] = []
        while true {
            let n = read(fd, chunk.baseAddress, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            // A sysfs value (a short first read) goes to `body` straight from the stack; a value that
            // filled the buffer is read on to the end.
            if singleRead && n < chunk.count && result.isEmpty {
                return body(UnsafeBufferPointer(rebasing: chunk[..<n]))
            }
            result.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[0..<n]))
            // A file that never ends (a device, a FIFO fed for ever, a broken attribute) is unreadable,
            // not a reason to exhaust memory: no file xvf reads this way comes near this size.
            if result.count > readSizeLimit { return nil }
        }
        return result.withUnsafeBufferPointer(body)
    }
}

/// What follows the last `/` of a path (all of it when there is none): `sys/block/sda` → "sda".
public func lastComponent(_ path: String) -> String {
    var path = path
    return path.withUTF8(lastComponent)
}

/// What follows the last `/` of a path given as bytes (all of it when there is none).
func lastComponent(_ path: UnsafeBufferPointer<UInt8>) -> String {
    let start = path.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
    return String(decoding: UnsafeBufferPointer(rebasing: path[start...]), as: UTF8.self)
}

/// A failed file operation, with the path and the errno.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    /// Why, when no errno says it (a path xvf refuses before asking the kernel).
    public let reason: String?
    public init(path: String, errno: Int32) {
        self.path = path
        self.errno = errno
        reason = nil
    }
    public init(path: String, reason: String) {
        self.path = path
        self.errno = EINVAL
        self.reason = reason
    }
    public var description: String { "\(path): \(reason ?? String(cString: strerror(errno)))" }
}

/// realpath(3) as a String; nil when the path does not exist.
func canonicalPath(_ path: String) -> String? {
    guard let real = realpath(path, nil) else { return nil }
    defer { free(real) }
    return String(cString: real)
}
