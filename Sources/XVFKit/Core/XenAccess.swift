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
            throw XVFError(.notDom0(capabilities: root.path("proc/xen/capabilities")))
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
        do { found = try domain(named: text) } catch { throw XVFError(.cannotListDomains, underlying: error) }
        guard let found else {
            throw XVFError(.domainNotFound(name: text))
        }
        guard found.id != 0 else {
            throw XVFError(.domainIsDom0(name: text))
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
            throw ErrorAdvice.noIOMMU(device, nothingChanged: true)
        }
        throw ErrorAdvice.createdWithoutPassthrough(domain, device: device, libxlSaid: nil)
    }

    /// `holders()` as xvf's error.
    func currentHolders() throws(XVFError) -> Holders {
        do { return try holders() } catch { throw XVFError(.cannotReadHolders, underlying: error) }
    }
}
