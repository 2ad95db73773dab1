import SRIOV

/// Plain-text columns, left-aligned, two spaces apart; numbers may be right-aligned.
public struct Table {
    public var header: [String]
    public var rows: [[String]] = []
    public var rightAligned: Set<Int> = []
    public var indent = ""

    public init(_ header: [String], rightAligned: Set<Int> = [], indent: String = "") {
        self.header = header
        self.rightAligned = rightAligned
        self.indent = indent
    }

    /// A row; control characters in its cells (names read from the host) are shown escaped.
    public mutating func append(_ row: [String]) { rows.append(row.map(\.escapingControlCharacters)) }

    public func render() -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in [header] + rows {
            var line = indent
            for (i, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                let isLast = i == row.count - 1
                if rightAligned.contains(i) { line += pad + cell } else { line += cell + (isLast ? "" : pad) }
                if !isLast { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

extension HostReport {
    /// The `xvf list` table: a line per PF, its VFs indented beneath.
    public func table() -> String {
        if pfs.isEmpty { return "No SR-IOV capable devices (no sriov_totalvfs in sysfs).\n" }
        var out = ""
        // The LEASE column only on a host with leases: elsewhere the table stays as it always was.
        let leased = pfs.contains { $0.vfs.contains { $0.lease != nil } }
        for (n, pf) in pfs.enumerated() {
            if n > 0 { out += "\n" }
            let d = pf.device
            let s = d.sriov!
            var line = "\(d.address)  \(d.interfaceName ?? "-")  \(d.driver ?? "(no driver)")  VFs \(s.numVFs)/\(s.totalVFs)"
            if s.driversAutoprobe == false { line += "  autoprobe off" }
            if let name = pf.name { line += "  " + name }
            out += line + "\n"
            guard !pf.vfs.isEmpty else { continue }
            var table = Table(["VF", "BDF", "IFACE", "DRIVER", "MAC", "IOMMU", "HOLDER"] + (leased ? ["LEASE"] : []),
                              rightAligned: [0, 5], indent: "  ")
            for vf in pf.vfs {
                let v = vf.device
                var holder = vf.holder.description
                if case .domain(_, let name?) = vf.holder { holder += " (\(name))" }
                // Built in steps: one literal with every `??` and the concatenation takes Swift 6.0 too long
                // to type-check on a loaded machine.
                var row: [String] = [v.vfIndex.map(String.init) ?? "?", v.address.description]
                row.append(v.interfaceName ?? "-")
                row.append(v.driver ?? "-")
                row.append(v.mac ?? "-")
                row.append(v.iommuGroup.map(String.init) ?? "-")
                row.append(holder)
                if leased { row.append(vf.lease ?? "-") }
                table.append(row)
            }
            out += table.render()
        }
        return out
    }
}
