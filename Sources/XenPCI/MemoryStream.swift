#if canImport(Glibc)
import Glibc
#endif

/// A C `FILE*` that writes into memory (`open_memstream`), so what libxl and libxlutil print to their
/// report stream becomes text xvf can put into its own messages instead of loose lines on stderr.
final class MemoryStream {
    let file: UnsafeMutablePointer<FILE>
    // open_memstream keeps these two addresses and updates them on every flush: they must not move.
    private let buffer = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
    private let size = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var consumed = 0

    init?() {
        buffer.initialize(to: nil)
        size.initialize(to: 0)
        guard let file = open_memstream(buffer, size) else {
            buffer.deallocate()
            size.deallocate()
            return nil
        }
        self.file = file
    }

    deinit {
        fclose(file)
        free(buffer.pointee)
        buffer.deallocate()
        size.deallocate()
    }

    /// Everything written since the last call.
    func takeText() -> String {
        fflush(file)
        guard let start = buffer.pointee, size.pointee > consumed else { return "" }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self) + consumed,
                                        count: size.pointee - consumed)
        consumed = size.pointee
        return String(decoding: bytes, as: UTF8.self)
    }
}
