import Foundation
import Testing

/// XVFKit's folders are capabilities: the README's layout table says which folders each one uses, and
/// this reads `Sources/XVFKit` to hold the table to the code and to keep the folders free of circles.
@Suite struct FolderGraphTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// The Swift files under `directory`, by path, without their comments.
    static func swiftFiles(under directory: URL) throws -> [String: String] {
        let comment = try NSRegularExpression(pattern: #"(^|[^:"])//.*$"#, options: .anchorsMatchLines)
        var files: [String: String] = [:]
        let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            files[url.path] = comment.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                                               withTemplate: "$1")
        }
        return files
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern, options: .anchorsMatchLines)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// Which folders each folder uses: it names a type that another folder declares at the top level, or a
    /// member that an extension in another folder adds, where no other declaration in Sources has that name.
    static func uses() throws -> [String: Set<String>] {
        let kit = sources.appendingPathComponent("XVFKit")
        let files = try swiftFiles(under: kit)
        func folder(_ path: String) -> String {
            String(path.dropFirst(kit.path.count + 1).prefix { $0 != "/" })
        }
        let modifiers = #"(?:(?:public|private|fileprivate|internal|final|indirect|static|mutating|@\w+) )*"#
        var types: [String: String] = [:]
        var extensionMembers: [String: String] = [:]
        for (path, text) in files {
            for name in matches(#"^"# + modifiers + #"(?:struct|enum|class|protocol|typealias|actor) (\w+)"#, in: text) {
                types[name] = folder(path)
            }
            // The members an extension declares at its first level of indentation.
            for body in ("\n" + text).components(separatedBy: "\nextension ").dropFirst() {
                let block = body.components(separatedBy: "\n}\n").first ?? body
                for name in matches(#"^    "# + modifiers + #"(?:func|var|let) (\w+)"#, in: block) {
                    extensionMembers[name] = folder(path)
                }
            }
        }
        // A member name declared anywhere else (a struct's `name`, HostRoot's `path`) says nothing about folders.
        var declarations: [String: Int] = [:]
        for (_, text) in try swiftFiles(under: sources) {
            for name in matches(#"^\s*"# + modifiers + #"(?:func|var|let|case) (\w+)"#, in: text) {
                declarations[name, default: 0] += 1
            }
        }
        var uses: [String: Set<String>] = [:]
        for (path, text) in files {
            let user = folder(path)
            let words = Set(matches(#"\b([A-Za-z_]\w*)"#, in: text))
            let members = Set(matches(#"\.([A-Za-z_]\w*)"#, in: text))
            uses[user, default: []].formUnion(types.filter { $0.value != user && words.contains($0.key) }.values)
            uses[user, default: []].formUnion(extensionMembers.filter {
                $0.value != user && declarations[$0.key] == 1 && members.contains($0.key)
            }.values)
        }
        return uses
    }

    /// The README's layout table of XVFKit: folder → the folders in its "uses" column.
    static func readmeTable() throws -> [String: Set<String>] {
        let readme = try String(contentsOf: sources.deletingLastPathComponent().appendingPathComponent("README.md"),
                                encoding: .utf8)
        var table: [String: Set<String>] = [:]
        for line in readme.split(separator: "\n") where line.hasPrefix("| `") && line.contains("/` |") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let folder = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`/"))
            let used = cells.last! == "—" ? [] : cells.last!.components(separatedBy: ", ")
            table[folder] = Set(used)
        }
        return table
    }

    /// The targets the README's first layout table names (`SimHost`, `SimXen`, `xvf-sim` share a row).
    static func readmeTargets() throws -> Set<String> {
        let readme = try String(contentsOf: sources.deletingLastPathComponent().appendingPathComponent("README.md"),
                                encoding: .utf8)
        let table = readme.components(separatedBy: "| target (`Sources/`) |").dropFirst().first?
            .components(separatedBy: "\n\n").first ?? ""
        var names: Set<String> = []
        for line in table.split(separator: "\n") where line.hasPrefix("| `") {
            let cell = String(line.split(separator: "|")[0])
            names.formUnion(matches(#"`([^`]+)`"#, in: cell))
        }
        return names
    }

    @Test func theReadmeLayoutNamesEveryTarget() throws {
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path)
        #expect(try Self.readmeTargets() == Set(targets))
    }

    @Test func theReadmeTableSaysWhichFoldersEachFolderUses() throws {
        let uses = try Self.uses()
        #expect(try Self.readmeTable() == uses)
    }

    @Test func noFolderDependsOnItselfThroughOthers() throws {
        let uses = try Self.uses()
        for start in uses.keys.sorted() {
            var seen: Set<String> = []
            var next = uses[start] ?? []
            while !next.isEmpty {
                #expect(!next.contains(start), "\(start) reaches itself through \(seen.sorted())")
                seen.formUnion(next)
                next = Set(next.flatMap { uses[$0] ?? [] }).subtracting(seen)
            }
        }
    }
}
