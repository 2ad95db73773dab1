#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import XenPCI

/// `xvf cfg add|remove FILE …`: a change to the `pci` list of an xl domain config on the host, checked by
/// libxlutil before and after, and written atomically.
public struct DomainConfigChange {
    /// The file, relative to the host root.
    public let path: String
    public let edit: DomainConfigPCIList

    /// What `cfg add` and `cfg remove` do to the file's pci list.
    public enum Request: Sendable {
        /// Specs or device names to add.
        case add([String])
        /// Devices to take out.
        case remove([String])
    }

    /// Plans the edit and, unless `dryRun`, makes it: under the host lock the file is read and edited
    /// again before it is replaced, so that two `cfg add` to one file at once both land (each edits what
    /// the other wrote) instead of the later one writing over the earlier. Returns the edit, made or planned.
    public static func run(_ request: Request, file: String, host: Host, dryRun: Bool) throws(XVFError) -> DomainConfigChange {
        func plan() throws(XVFError) -> DomainConfigChange {
            switch request {
            case .add(let specs): try add(specs, to: file, host: host)
            case .remove(let devices): try remove(devices, from: file, host: host)
            }
        }
        return try host.change(dryRun: dryRun, plan: plan, unchanged: { $0.changes ? nil : $0 },
                               planned: { change in
            host.journal.plan(.replaceFile(path: change.path, content: change.edit.edited))
            return change
        }, apply: { (change) throws(XVFError) in
            do { try host.root.replaceFile(change.path, with: change.edit.edited) } catch {
                throw XVFError(.changeFailed, underlying: error)
            }
            return change
        })
    }

    static func add(_ specs: [String], to file: String, host: Host) throws(XVFError) -> DomainConfigChange {
        let parsed = try PCISpecs.parse(specs, host: host)
        let (path, text) = try read(file, root: host.root)
        do {
            return DomainConfigChange(path: path, edit: try .add(parsed, to: text, filename: file))
        } catch {
            throw XVFError(error.unavailable ? .xlParserUnavailable : .domainConfigRefused, underlying: error)
        }
    }

    static func remove(_ devices: [String], from file: String, host: Host) throws(XVFError) -> DomainConfigChange {
        let addresses = try PCISpecs.parse(devices, host: host).map { (spec) throws(XVFError) -> PCIAddress in
            guard let address = spec.address else {
                throw XVFError(.specWithoutAddressToRemove(spec.canonical))
            }
            return address
        }
        let (path, text) = try read(file, root: host.root)
        do {
            return DomainConfigChange(path: path, edit: try .remove(addresses, from: text, filename: file))
        } catch {
            throw XVFError(error.unavailable ? .xlParserUnavailable : .domainConfigRefused, underlying: error)
        }
    }

    /// Whether the file changes at all.
    public var changes: Bool { edit.edited != edit.original }

    /// The file as a path under the root: absolute paths are the host's (under `--root`), relative ones
    /// are taken from the current directory.
    static func read(_ file: String, root: HostRoot) throws(XVFError) -> (path: String, text: String) {
        var path = file
        if !file.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: 4096)
            guard getcwd(&buffer, buffer.count) != nil else {
                throw XVFError(.noWorkingDirectory(errno: errno))
            }
            let cwd = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let absolute = (cwd == "/" ? "" : cwd) + "/" + file
            guard let inside = root.relative(absolute) ?? (root.prefix.isEmpty ? String(absolute.dropFirst()) : nil) else {
                throw XVFError(.outsideRoot(file: file, root: root.displayPath))
            }
            path = inside
        } else {
            path = String(file.dropFirst())
        }
        // The name is glued under the root, so `..` or a link could lead out of it to this machine's own
        // files: only where it really leads counts, and that must be inside the root.
        guard let inside = root.contained(path) else {
            throw XVFError(.leadsOutsideRoot(file: file, root: root.displayPath))
        }
        path = inside
        let text: String?
        do { text = try root.editableText(path) } catch { throw XVFError(.domainConfigUnreadable(file: file, reason: error.reason), underlying: error) }
        guard let text else {
            throw XVFError(.domainConfigMissing(file: file))
        }
        return (path, text)
    }
}
