import SRIOV
import XenPCI

/// Carries out a `BootPlan`: every action that can be done is done, and each failure is reported
/// on its own, so that one bad PF or VF does not leave the others unconfigured. A PF whose autoprobe or
/// count could not be set gets none of its later steps (VFs that do not exist cannot be configured, and
/// VFs created with autoprobe on would go to dom0), except turning autoprobe back on. Running `xvf boot`
/// again after fixing the cause finishes the job, since the next plan holds only what is still missing.
public struct BootRun {
    /// One thing that failed, as one line: the PF or VF, then why.
    public private(set) var failures: [String] = []
    /// Lines to show besides the steps (a VF no driver took).
    public private(set) var notes: [String] = []
    public private(set) var done = 0

    let plan: BootPlan
    let root: HostRoot
    let toolstack: (any Toolstack)?
    let holders: Holders
    /// `eno49 (0000:04:00.0)` for each PF, as failures name them.
    let labels: [PCIAddress: String]

    public init(plan: BootPlan, inventory: HostInventory, toolstack: (any Toolstack)?, holders: Holders) {
        self.plan = plan
        root = inventory.root
        self.toolstack = toolstack
        self.holders = holders
        labels = Dictionary(uniqueKeysWithValues: inventory.physicalFunctions.map { ($0.address, inventory.label($0)) })
        failures = plan.problems.map(\.message)
    }

    /// Refuses, before anything is changed, a plan whose programs would act on this machine while the
    /// root is another tree.
    public func check() throws(XVFError) {
        try ProgramGuard.check(plan.programs, root: root)
    }

    /// One step that either takes or is reported as `what`'s failure; true when it took.
    @discardableResult
    private mutating func perform(_ step: HostStep, failing what: String, log: (String) -> Void) -> Bool {
        log(step.description)
        do {
            try step.perform(on: root)
            done += 1
            return true
        } catch {
            failures.append("\(what): \(error)")
            return false
        }
    }

    /// Performs the plan; `log` gets each line as its step is taken.
    public mutating func apply(log: (String) -> Void) {
        var failedPFs: Set<PCIAddress> = []
        for action in plan.actions {
            if let pf = action.pf, failedPFs.contains(pf) {
                if case .setAutoprobe(_, true) = action {} else { continue }
            }
            switch action {
            case .setAutoprobe(let pf, let on):
                let step = HostStep.writeAttribute(path: BootPlan.autoprobePath(pf), value: on ? "1" : "0")
                if !perform(step, failing: label(pf), log: log) { failedPFs.insert(pf) }
            case .setCount(let change):
                do {
                    try change.apply(to: root, toolstack: toolstack) { log($0.description) }
                    done += 1
                } catch {
                    failures.append(error.message + "; its VF settings and pciback hand-over were skipped")
                    failedPFs.insert(change.pf.address)
                }
            case .linkSettings(let lines):
                let kept = lines.filter { !failedPFs.contains($0.pf) }
                guard !kept.isEmpty else { continue }
                for line in action.linesFor(kept) { log(line) }
                applyLinkSettings(kept)
            case .loadPciback:
                perform(HostStep.run(BootPlan.modprobePciback), failing: "xen-pciback", log: log)
            case .handToPciback(let vf, _, let label, let name, let viaToolstack, _):
                for line in action.lines { log(line) }
                let failure = viaToolstack ? handOverThroughToolstack(vf, name: name, label: label)
                    : handOverThroughSysfs(vf, label: label)
                if let failure { failures.append("\(label) (\(vf)): \(failure)") } else { done += 1 }
            case .bindLeases(_, let content):
                for line in action.lines { log(line) }
                do {
                    try root.replaceFile(Leases.path, with: content)
                    done += 1
                } catch {
                    failures.append("the lease bindings: \(error); the leases are bound for this boot only")
                }
            case .dropName(let vf, _, let label, let name):
                for line in action.lines { log(line) }
                guard let toolstack else { continue }
                do {
                    try toolstack.assignableAdd(vf, name: nil, rebind: true)
                    done += 1
                } catch {
                    failures.append("\(label) (\(vf)): taking the name \(name) off it: "
                                    + ErrorAdvice.libxl(error, device: vf, holders: holders).message)
                }
            case .clearOverride(let vf, _, let label):
                for line in action.lines { log(line) }
                let before = notes.count
                clearOverride(vf, label: label)
                if notes.count == before { done += 1 }
            case .probe(let vf, _, let label):
                guard root.driver(of: vf) == nil else { continue }
                for line in action.lines { log(line) }
                do {
                    try root.writeAttribute(BootPlan.probePath, vf.description)
                    done += 1
                } catch {
                    failures.append("\(label) (\(vf)): probing a driver: \(error)")
                    continue
                }
                if root.driver(of: vf) == nil { notes.append("\(label) (\(vf)): no dom0 driver took it; it stays unbound") }
            }
        }
    }

    /// One `ip -force -batch -` for every VF: `-force` goes on past a failed line, and ip reports each
    /// failure as its message followed by `Command failed -:LINE`, which names the VF.
    mutating func applyLinkSettings(_ all: [BootPlan.LinkLine]) {
        // A line ip's batch reader would misread runs alone, with its words as they are.
        for line in all where !line.isBatchSafe {
            let result = ExternalProgram.run(["ip"] + line.words, for: root)
            let reason = result.output.isEmpty ? "exit status \(result.status)" : result.output.split(separator: "\n").joined(separator: "; ")
            root.journal?.record(RecordedStep(
                what: "vf_settings", target: line.label, status: result.status == 0 ? .done : .failed, detail: "ip " + line.text,
                failure: result.status == 0 ? nil : reason))
            if result.status == 0 { done += 1 } else { failures.append("\(line.label): `ip \(line.text)` failed: \(reason)") }
        }
        let lines = all.filter(\.isBatchSafe)
        guard !lines.isEmpty else { return }
        let result = ExternalProgram.run(BootPlan.ipBatch, input: lines.map { $0.text + "\n" }.joined(), for: root)
        var failedLines: Set<Int> = []
        var said: [String] = []
        var reasons: [Int: String] = [:]
        for line in result.output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("Command failed -:"), let number = Int(line.dropFirst("Command failed -:".count)),
               (1...lines.count).contains(number) {
                failedLines.insert(number)
                let reason = said.isEmpty ? "ip refused it" : said.joined(separator: "; ")
                reasons[number] = reason
                failures.append("\(lines[number - 1].label): `ip link \(lines[number - 1].text.dropFirst(5))` failed: \(reason)")
                said = []
            } else if !line.isEmpty {
                said.append(line)
            }
        }
        // Each line is one VF's step in the command's record; without a line named, a failure is every line's.
        let unnamed = result.status != 0 && failedLines.isEmpty
        for (number, line) in zip(1..., lines) {
            let failed = unnamed || failedLines.contains(number)
            root.journal?.record(RecordedStep(
                what: "vf_settings", target: line.label, status: failed ? .failed : .done, detail: "ip " + line.text,
                failure: failed ? (reasons[number] ?? "`ip -batch` exited with status \(result.status)") : nil))
        }
        if result.status != 0 && failedLines.isEmpty {
            // ip did not run, or failed without naming a line: none of the settings can be trusted.
            let reason = result.output.isEmpty ? "exit status \(result.status)" : result.output.split(separator: "\n").joined(separator: "; ")
            failures.append("VF link settings (\(lines.count) VF\(lines.count == 1 ? "" : "s")): `ip -batch` failed: \(reason)")
            return
        }
        done += lines.count - failedLines.count
    }

    /// `driver_override=pciback` meanwhile: with autoprobe off Linux lets no driver probe the VF otherwise,
    /// and libxl's bind would fail (ENODEV).
    mutating func handOverThroughToolstack(_ vf: PCIAddress, name: String?, label: String) -> String? {
        guard let toolstack else { return "no toolstack" }
        do {
            if let note = try PcibackState.makeAssignable(vf, name: name, rebind: true, override: true, toolstack: toolstack,
                                                          root: root, explain: { ErrorAdvice.libxl($0, device: vf, holders: holders) }) {
                notes.append("\(label) (\(vf)): " + note)
            }
            return nil
        } catch {
            return error.message
        }
    }

    /// `driver_override` makes pciback the only driver the device may get; `drivers_probe` binds it.
    /// The override is cleared afterwards whatever happened (`clearOverride`).
    mutating func handOverThroughSysfs(_ vf: PCIAddress, label: String) -> String? {
        if root.driver(of: vf) == PCIDevice.pcibackDriver { return nil }
        do { try root.writeAttribute(PcibackState.overridePath(vf), PCIDevice.pcibackDriver) } catch { return error.description }
        defer { clearOverride(vf, label: label) }
        do {
            if let driver = root.driver(of: vf) {
                try root.writeAttribute("sys/bus/pci/drivers/\(driver)/unbind", vf.description)
            }
            try root.writeAttribute(BootPlan.probePath, vf.description)
        } catch {
            return error.description
        }
        guard root.driver(of: vf) == PCIDevice.pcibackDriver else {
            return "pciback did not take it (is xen-pciback loaded? `modprobe xen-pciback`)"
        }
        return nil
    }

    /// Clears the override a hand-over set, so that the VF can go back to a dom0 driver later. A VF whose
    /// override stays pciback is said in a note: nothing else shows it, and `xvf release --to-dom0`
    /// would find no driver taking the VF.
    mutating func clearOverride(_ vf: PCIAddress, label: String) {
        let path = PcibackState.overridePath(vf)
        do {
            try root.writeAttribute(path, "\n")
        } catch {
            notes.append("\(label) (\(vf)): driver_override stays pciback (\(error)); clear it with "
                         + "`echo > /\(path)` before giving the VF back to dom0")
        }
    }

    func label(_ pf: PCIAddress) -> String { labels[pf] ?? pf.description }
}

extension BootPlan.Action {
    /// The lines of a link-settings action restricted to some of its VFs.
    func linesFor(_ kept: [BootPlan.LinkLine]) -> [String] {
        BootPlan.Action.linkSettings(kept).lines
    }
}
