import CXenLight
import SRIOV

/// The `pci = [ … ]` setting of an xl domain config, edited in place: only the list's items change,
/// every other byte of the file (settings, comments, layout, the list's own comments) stays.
///
/// libxlutil reads the file first (a file it rejects is refused) and reads the result again before
/// anything is written; `XLStatements` finds where in the text the list and its items are, and must
/// agree with libxlutil on what they say.
public struct DomainConfigPCIList {
    public let filename: String
    public let original: String
    /// The file after the change (equal to `original` when nothing changes).
    public let edited: String
    /// The `pci` list as xl reads it, before and after; nil when the file has no `pci` setting.
    public let before: [String]?
    public let after: [String]
    /// What was left alone, one line each (an item already present, …).
    public let notes: [String]

    /// Adds specs to the list (creating it when absent); a device already in it by BDF, or by the name
    /// libxl resolves when the domain is created (`name=web1-nic`), is not added twice.
    public static func add(_ specs: [PCISpec], to text: String, filename: String) throws(DomainConfigError) -> Self {
        let file = try ScannedFile(text, filename: filename)
        var present = try file.addresses()
        var presentNames = try file.names()
        var added: [PCISpec] = []
        var notes: [String] = []
        for spec in specs {
            guard let address = spec.address else {
                guard let name = spec.name else {
                    throw DomainConfigError("\(filename): '\(spec.canonical)' names no device; a domain config needs an "
                                            + "address (0000:04:10.0) or a name (name=web1-nic)")
                }
                if let existing = presentNames[name] {
                    notes.append("name=\(name) is already in pci (as '\(existing)'); not added again")
                    continue
                }
                presentNames[name] = spec.canonical
                added.append(spec)
                continue
            }
            if let existing = present[address] {
                notes.append("\(spec.deviceDescription) is already in pci (as '\(existing)'); not added again")
                continue
            }
            present[address] = spec.canonical
            added.append(spec)
        }
        // New items in the quotes the list already uses.
        let quoteMark: Character = file.lists.last?.elements.first.map { file.bytes[$0.range.lowerBound] == UInt8(ascii: "\"") }
            == true ? "\"" : "'"
        let items = added.map { quote($0.canonical, with: quoteMark) }
        var edits: [TextEdit] = []
        if let target = file.lists.last, !items.isEmpty {
            edits = target.appending(items, in: file.bytes)
        } else if !items.isEmpty {
            let separator = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
            edits = [TextEdit(offset: file.bytes.count, length: 0,
                              text: separator + "pci = [ " + items.joined(separator: ", ") + " ]\n")]
        }
        return try finish(file, edits: edits, expected: (file.effective ?? []) + added.map(\.canonical), notes: notes)
    }

    /// Removes the items that name these devices (by BDF) from every `pci` list in the file.
    public static func remove(_ addresses: [PCIAddress], from text: String, filename: String) throws(DomainConfigError)
        -> Self
    {
        let file = try ScannedFile(text, filename: filename)
        // A device the file does not list is already removed: said in a note, so that a second identical
        // run (or an Ansible state=absent) changes nothing and succeeds.
        guard !file.lists.isEmpty else {
            return try finish(file, edits: [], expected: file.effective ?? [],
                              notes: ["\(filename) has no pci setting; there is nothing to remove"])
        }
        let wanted = Set(addresses)
        var found: Set<PCIAddress> = []
        var edits: [TextEdit] = []
        for statement in file.statements {
            guard let list = statement.list else { continue }
            var doomed: [Int] = []
            // A nested list can only be in a list a later `pci =` replaces (libxlutil refuses it in the
            // live one): it names no device and stays.
            for (index, element) in list.elements.enumerated() {
                guard let value = element.value else { continue }
                if let address = try file.spec(value).address, wanted.contains(address) {
                    doomed.append(index)
                    found.insert(address)
                }
            }
            guard !doomed.isEmpty else { continue }
            // Emptied with nothing else in it (no comment), and the file's only pci setting (an earlier one it
            // replaces would come back to life): the statement goes, as before xvf added to it.
            if doomed.count == list.elements.count, file.statements.count == 1,
               !file.bytes[list.open..<list.close].contains(UInt8(ascii: "#")),
               let whole = statement.wholeLines(in: file.bytes) {
                edits.append(TextEdit(offset: whole.lowerBound, length: whole.count, text: ""))
            } else {
                edits += list.removing(doomed, in: file.bytes)
            }
        }
        let notes = addresses.filter { !found.contains($0) }.map { missing in
            "\(missing) is not in the pci list of \(filename) (it has: "
                + ((file.effective ?? []).isEmpty ? "none" : (file.effective ?? []).joined(separator: ", ")) + "); nothing to remove"
        }
        var expected: [String] = []
        for item in file.effective ?? [] {
            if let address = try file.spec(item).address, wanted.contains(address) { continue }
            expected.append(item)
        }
        return try finish(file, edits: edits, expected: expected, notes: notes)
    }

    /// Applies the edits and reads the result with libxlutil: it must parse, and its list must be `expected`.
    static func finish(_ file: ScannedFile, edits: [TextEdit], expected: [String], notes: [String])
        throws(DomainConfigError) -> Self
    {
        var bytes = file.bytes
        for edit in edits.sorted(by: { $0.offset > $1.offset }) {
            bytes.replaceSubrange(edit.offset..<edit.offset + edit.length, with: Array(edit.text.utf8))
        }
        let edited = String(decoding: bytes, as: UTF8.self)
        let reread: [String]?
        do {
            reread = try XLConfig(parsing: edited, filename: file.filename).stringList("pci")
        } catch {
            throw DomainConfigError("the edited \(file.filename) would not parse (\(error)); nothing was changed")
        }
        guard (reread ?? []) == expected else {
            throw DomainConfigError("the edited \(file.filename) would read pci as [\((reread ?? []).joined(separator: ", "))]"
                                    + " instead of [\(expected.joined(separator: ", "))]; nothing was changed")
        }
        return DomainConfigPCIList(filename: file.filename, original: file.text, edited: edited, before: file.effective,
                                   after: expected, notes: notes)
    }

    /// A string literal xl reads back as `value`.
    static func quote(_ value: String, with mark: Character = "'") -> String {
        var quoted = String(mark)
        for character in value {
            if character == "\\" || character == mark { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + String(mark)
    }

    /// The change as a line diff: the changed lines with a few around them.
    public var diff: String {
        let old = original.split(separator: "\n", omittingEmptySubsequences: false)
        let new = edited.split(separator: "\n", omittingEmptySubsequences: false)
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix,
              old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        guard prefix < old.count || prefix < new.count, original != edited else { return "" }
        var lines = ["--- \(filename)", "+++ \(filename)", "@@ line \(prefix + 1) @@"]
        lines += old[prefix..<(old.count - suffix)].map { "-" + $0 }
        lines += new[prefix..<(new.count - suffix)].map { "+" + $0 }
        return lines.joined(separator: "\n")
    }
}

/// Why a domain config cannot be edited; one line.
public struct DomainConfigError: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// Xen's libraries are missing, so the file could not be read as xl reads it (not the file's fault).
    public let unavailable: Bool
    public init(_ description: String, unavailable: Bool = false) {
        self.description = description
        self.unavailable = unavailable
    }
}

/// A domain config as libxlutil reads it, with the places of its `pci` statements in the text.
struct ScannedFile {
    let text: String
    let filename: String
    let bytes: [UInt8]
    /// Every `pci = [ … ]` and `pci += [ … ]` statement with a list, in file order.
    let statements: [XLStatements.Statement]
    /// Their lists.
    var lists: [XLStatements.List] { statements.compactMap(\.list) }
    /// The list xl uses (libxlutil's reading); nil when not set.
    let effective: [String]?

    init(_ text: String, filename: String) throws(DomainConfigError) {
        self.text = text
        self.filename = filename
        bytes = Array(text.utf8)
        do {
            effective = try XLConfig(parsing: text, filename: filename).stringList("pci")
        } catch {
            throw DomainConfigError("\(error); nothing was changed", unavailable: error.unavailable)
        }
        let layout = XLStatements(scanning: text)
        statements = layout.statements.filter { $0.key == "pci" && $0.list != nil }
        let scanned = layout.items(of: "pci")?.map(\.value) ?? []
        guard scanned == (effective ?? []) else {
            throw DomainConfigError("\(filename): xvf reads its pci list as [\(scanned.joined(separator: ", "))] but xl "
                                    + "as [\((effective ?? []).joined(separator: ", "))]; edit this file by hand")
        }
    }

    /// A list item as a checked spec. xl hands the item to libxlutil as it is written, so an item it
    /// would misread (`permissive=yes` is 0 to libxlutil) stops the edit, with the form to write instead.
    func spec(_ item: String) throws(DomainConfigError) -> PCISpec {
        let spec: PCISpec
        do { spec = try PCISpec(parsing: item) } catch {
            throw DomainConfigError("\(filename): pci item \(error.description); fix it first")
        }
        guard item != spec.canonical else { return spec }
        let differences: [String]
        do { differences = try LibxlutilSpecReader.differences(readingRaw: item, as: spec) } catch {
            throw DomainConfigError(error.description, unavailable: true)
        }
        guard differences.isEmpty else {
            throw DomainConfigError("\(filename): xl reads pci item '\(item)' differently from what it says ("
                                    + differences.joined(separator: ", ") + "); fix it first: write '\(spec.canonical)'")
        }
        return spec
    }

    /// The devices in the live list, each with the item that names it.
    /// The names the live `pci` list gives its devices by (`name=web1-nic`), with their items.
    func names() throws(DomainConfigError) -> [String: String] {
        var found: [String: String] = [:]
        for item in effective ?? [] {
            let spec = try spec(item)
            if let name = spec.name, spec.address == nil, found[name] == nil { found[name] = item }
        }
        return found
    }

    func addresses() throws(DomainConfigError) -> [PCIAddress: String] {
        var found: [PCIAddress: String] = [:]
        for item in effective ?? [] {
            if let address = try spec(item).address, found[address] == nil { found[address] = item }
        }
        return found
    }
}
