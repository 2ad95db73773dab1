import SRIOV
import XenPCI

/// How a command reaches Xen: through the host's toolstack backend, in a dom0 only, with a one-line
/// refusal anywhere else.
extension Host {
    /// Whether the host root is a Xen dom0.
    public var isXenDom0: Bool { XenHost.isControlDomain(root) }

    /// The toolstack for this host; one per run (libxl keeps one context for all calls).
    public func openToolstack() throws(XVFError) -> any Toolstack {
        guard isXenDom0 else {
            throw XVFError(.unavailable, "not a Xen dom0: \(root.path("proc/xen/capabilities")) does not say control_d; "
                           + "boot the host under Xen (nothing was changed; --dry-run shows the plan)")
        }
        if let openedToolstack { return openedToolstack }
        // The backend gets a root that records nothing: its own sysfs work is the one toolstack step.
        let opened = RecordedToolstack(try backends.toolstack(root.unobserved), journal: journal)
        openedToolstack = opened
        return opened
    }
}

extension Toolstack {
    /// The domain a user names, or a bad-input error that says how to find the right one.
    func resolveDomain(_ text: String) throws(XVFError) -> XenDomain {
        let found: XenDomain?
        do { found = try domain(named: text) } catch { throw XVFError(.failed, "cannot list Xen domains: \(error)") }
        guard let found else {
            throw XVFError(.badInput, "domain '\(text)' is not running; `xl list` shows the domains by name and id")
        }
        guard found.id != 0 else {
            throw XVFError(.badInput, "domain '\(text)' is Domain-0 itself; name a guest (xl list)")
        }
        return found
    }

    /// Refuses a domain Xen gave no IOMMU context at its creation, before anything is changed: its attach
    /// would end in libxl's "xc_assign_device failed: Operation not supported" (PV) or "cannot be
    /// assigned - no IOMMU?" (HVM), after the device had been taken from dom0. Passes when Xen cannot say.
    func requirePassthrough(in domain: XenDomain, for device: PCIAddress) throws(XVFError) {
        let enabled: Bool?
        do { enabled = try passthroughEnabled(in: domain.id, for: device) } catch {
            throw ErrorAdvice.libxl(error, device: device, domain: domain)
        }
        guard enabled == false else { return }
        if let capabilities = try? capabilities(), !capabilities.passthrough {
            let advice = ErrorAdvice.noIOMMU(device)
            throw XVFError(advice.kind, advice.message + "; nothing was changed")
        }
        throw ErrorAdvice.createdWithoutPassthrough(domain, device: device, libxlSaid: nil)
    }

    /// `holders()` as xvf's error.
    func currentHolders() throws(XVFError) -> Holders {
        do { return try holders() } catch { throw XVFError(.failed, "cannot read the domains' devices: \(error)") }
    }
}
