/// The error `body` throws, if it is an `E`; nil when it throws nothing or something else. Tests compare
/// the error's code: Swift 6.0's `#expect(throws:)` (Debian 13's Swift) does not return the error yet.
public func thrown<E: Error, R>(_ type: E.Type, _ body: () throws -> R) -> E? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? E
    }
}
