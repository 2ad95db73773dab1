/// A number in hexadecimal with at least `width` digits, zero-padded on the left, as sysfs, lspci, xl and
/// modalias strings write them (`8086`, `0a`, `000200`).
public func hex<T: BinaryInteger>(_ value: T, width: Int, uppercase: Bool = false) -> String {
    let digits = String(value, radix: 16, uppercase: uppercase)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
