#if canImport(Glibc)
import Glibc
#endif
import CXenLight

/// An xl configuration file (xl.cfg(5) syntax) as libxlutil reads it: the same reader `xl create` uses,
/// so a file this accepts is a file xl accepts, and the values are the ones xl sees (the last assignment
/// of a key wins; `+=` appends to a list).
public final class XLConfig {
    private let xl: xvf_xen
    private let config: OpaquePointer
    // libxlutil writes its warnings to this stream for as long as the config lives.
    private let report: MemoryStream
    public let filename: String

    /// Reads `text`; a file libxlutil rejects throws its own message (`web1.cfg:4: config parsing error
    /// near `(1)': lexical error`).
    public init(parsing text: String, filename: String) throws(XLConfigError) {
        let xl: xvf_xen
        do { xl = try XenLibraries.load().functions } catch {
            throw XLConfigError(filename: filename, message: "cannot be read as xl reads it: \(error)", unavailable: true)
        }
        self.xl = xl
        // libxlutil's lexer counts a quoted string's length past a NUL byte and then asserts in
        // xlu__cfgl_dequote, aborting the process (found by fuzzing): text with NULs never reaches it.
        if let nul = text.utf8.firstIndex(of: 0) {
            throw XLConfigError(filename: filename, message: "contains a NUL byte (at byte "
                                + "\(text.utf8.distance(from: text.utf8.startIndex, to: nul))); an xl config is text")
        }
        guard let report = MemoryStream(), let config = xl.xlu_cfg_init(report.file, filename) else {
            throw XLConfigError(filename: filename, message: "libxlutil could not start (out of memory)")
        }
        let bytes = Array(text.utf8)
        let rc = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { xl.xlu_cfg_readdata(config, $0.baseAddress, Int32($0.count)) }
        }
        guard rc == 0 else {
            let said = report.takeText().split(separator: "\n").first.map(String.init)
            // libxlutil holds report.file until the destroy: the stream must not be closed before it.
            withExtendedLifetime(report) { xl.xlu_cfg_destroy(config) }
            throw XLConfigError(filename: filename,
                                message: said ?? "libxlutil cannot read it (\(String(cString: strerror(rc))))")
        }
        self.config = config
        self.report = report
        self.filename = filename
    }

    deinit { xl.xlu_cfg_destroy(config) }

    /// A list of strings (`pci = [ '…', … ]`); nil when the key is not set. A key that holds a single
    /// value, or a list with an item that is not a string, throws.
    public func stringList(_ key: String) throws(XLConfigError) -> [String]? {
        var list: OpaquePointer?
        var count: Int32 = 0
        let rc = xl.xlu_cfg_get_list(config, key, &list, &count, 1)
        if rc == ESRCH { return nil }
        guard rc == 0, let list else {
            throw XLConfigError(filename: filename, message: "`\(key)' is not a list; write \(key) = [ '…', … ]")
        }
        var items: [String] = []
        for index in 0..<count {
            guard let item = xl.xlu_cfg_get_listitem(list, index) else {
                throw XLConfigError(filename: filename, message: "item \(index + 1) of `\(key)' is not a string")
            }
            items.append(String(cString: item))
        }
        return items
    }
}

/// Why an xl configuration file cannot be used, in one line that starts with the file.
public struct XLConfigError: Error, Equatable, CustomStringConvertible {
    public let filename: String
    public let message: String
    /// Xen's libraries are missing: nothing is known of the file itself.
    public let unavailable: Bool
    public init(filename: String, message: String, unavailable: Bool = false) {
        self.filename = filename
        self.message = message
        self.unavailable = unavailable
    }
    public var description: String {
        message.hasPrefix(filename) ? message : "\(filename): \(message)"
    }
}
