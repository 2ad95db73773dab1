/// A toolstack call that failed: libxl's error code and what libxl logged while it ran, which is where
/// the reason is (libxl's codes are mostly ERROR_FAIL).
public struct ToolstackError: Error, Equatable, CustomStringConvertible {
    /// The libxl function, e.g. `libxl_device_pci_add`.
    public var operation: String
    /// A libxl `ERROR_*` value (negative); -1 where libxl itself returns it (a failed rebind).
    public var code: Int32
    /// libxl's messages during the call, one per line, as xl would have printed them.
    public var log: [String]

    public init(operation: String, code: Int32, log: [String]) {
        self.operation = operation
        self.code = code
        self.log = log
    }

    /// libxl's name for the code.
    public var codeName: String { Self.codeNames[code] ?? "error \(code)" }

    /// The most telling message: the first error line, else the last line. libxl logs the cause first and
    /// each layer that passes the failure up adds its own line ("unable to add device", "saving domain:
    /// domain did not respond to suspend request"). Xen 4.20's libxl also logs one error on every HVM
    /// guest's start that does not fail it (its device model's command-line probe), which is never a cause.
    public var reason: String? {
        log.first { $0.contains("error:") && !$0.contains(Self.harmlessProbe) } ?? log.last
    }

    /// libxl_aoutils.c's error when the probe of QEMU's options ends before libxl kills it, as it always does.
    static let harmlessProbe = "qemu command-line probe already exited"

    public var description: String {
        "\(operation) failed (\(codeName))" + (reason.map { ": " + $0 } ?? "")
    }

    static let codeNames: [Int32: String] = [
        -1: "ERROR_NONSPECIFIC", -3: "ERROR_FAIL", -5: "ERROR_NOMEM", -6: "ERROR_INVAL",
        -17: "ERROR_DEVICE_EXISTS", -21: "ERROR_DOMAIN_NOTFOUND", -23: "ERROR_NOTFOUND",
    ]

    public static let fail: Int32 = -3
    public static let invalid: Int32 = -6
    public static let domainNotFound: Int32 = -21
    public static let notFound: Int32 = -23
}
