/// The text of a file xvf edits, kept byte for byte.
///
/// Configs are the user's: a Latin-1 comment or path in a domU config, GRUB's defaults or a modprobe file
/// must come back exactly as it was, while the editors work on Swift Strings, which hold Unicode only.
/// So every byte that is not part of valid UTF-8 is carried through the String as one scalar of the
/// last private-use block (U+10FF00 + the byte) and turned back into that byte when the file is
/// written. A file that already holds such scalars could not be told apart from one holding those
/// bytes: it is refused (nil) rather than changed.
public enum HostText {
    static let escapeBase: UInt32 = 0x10FF00

    /// The file's bytes as text, every byte kept; nil when they already hold U+10FF00–U+10FFFF.
    public static func decode(_ bytes: [UInt8]) -> String? {
        var scalars = String.UnicodeScalarView()
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var position = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if scalar.value >= escapeBase { return nil }
                scalars.append(scalar)
                position += encoded.count
            case .error(let length):
                for byte in bytes[position..<position + length] {
                    scalars.append(Unicode.Scalar(escapeBase + UInt32(byte))!)
                }
                position += length
            case .emptyInput:
                return String(scalars)
            }
        }
    }

    /// The bytes of `text` as the file holds them: each carried byte back in its place.
    public static func encode(_ text: String) -> [UInt8] {
        // Only a 4-byte sequence starting 0xF4 can be a carried byte; most files hold none.
        guard text.utf8.contains(0xF4) else { return Array(text.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.value >= escapeBase {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return bytes
    }
}
