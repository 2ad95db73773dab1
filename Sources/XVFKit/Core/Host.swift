import LibPCI
import SRIOV
import XenPCI

/// The host a command works on: its root, read once, with libpci opened on first use.
public final class Host {
    public let root: HostRoot
    private var cachedInventory: HostInventory?
    private var cachedLibrary: Result<PCILibrary, PCILibraryError>?
    /// Readings that hold for the whole command, by their type (`Host.safety()`); `reload` keeps them.
    private var commandReadings: [ObjectIdentifier: Any] = [:]
    /// The toolstack, opened once for the run (libxl keeps one context for all its calls).
    var openedToolstack: (any Toolstack)?

    /// What the toolstack logged during the run, for `xvf -v`.
    public var toolstackMessages: [String] { openedToolstack?.messages ?? [] }

    /// What changes go through (kernel writes, the toolstack).
    let backends: HostBackends

    /// Every change the command makes through the root or the toolstack, for its `--json` result.
    public let journal = StepJournal()

    /// How long a change waits for another xvf's host lock, in seconds (`--wait`).
    public var lockTimeout = Host.defaultLockTimeout
    public static let defaultLockTimeout = 120
    /// Told once when a change has to wait for the host lock, with whom it waits for (the CLI prints it).
    public var onLockWait: (String) -> Void = { _ in }

    /// `rootPath` is the host root (`/`, or a tree such as the demo host); `backends` carry out the changes.
    public init(rootPath: String, backends: HostBackends) throws(XVFError) {
        var root = try backends.root(rootPath)
        root.observer = journal
        self.root = root
        self.backends = backends
    }

    public func inventory() throws(XVFError) -> HostInventory {
        if let cachedInventory { return cachedInventory }
        do {
            let inventory = Self.completingSRIOV(try HostInventory.discover(root), library: { library })
            cachedInventory = inventory
            return inventory
        } catch {
            throw XVFError(error)
        }
    }

    /// A PF whose sysfs lacks `sriov_offset` or `sriov_stride` gets them from its SR-IOV capability in
    /// config space (libpci, opened only then); what neither can tell stays unknown.
    static func completingSRIOV(_ inventory: HostInventory, library: () -> PCILibrary?) -> HostInventory {
        let incomplete = inventory.physicalFunctions.filter { $0.sriov?.offset == nil || $0.sriov?.stride == nil }
        guard !incomplete.isEmpty, let library = library() else { return inventory }
        var devices = inventory.devices
        for pf in incomplete {
            guard let capability = try? library.sriovCapability(of: pf.address), capability.firstVFOffset > 0 else { continue }
            devices[pf.address]?.sriov?.offset = pf.sriov?.offset ?? capability.firstVFOffset
            devices[pf.address]?.sriov?.stride = pf.sriov?.stride ?? capability.vfStride
        }
        return HostInventory(root: inventory.root, devices: Array(devices.values))
    }

    /// Forgets what was read, after a change.
    public func reload() { cachedInventory = nil }

    /// The `Value` of this command: `read` runs at the first call, and later calls return what it read.
    func readOnce<Value>(_ read: () throws(XVFError) -> Value) throws(XVFError) -> Value {
        let key = ObjectIdentifier(Value.self)
        if let kept = commandReadings[key] as? Value { return kept }
        let value = try read()
        commandReadings[key] = value
        return value
    }

    /// libpci on this root; nil when it cannot be opened (names and capabilities are then left out).
    public var library: PCILibrary? { try? openedLibrary.get() }

    /// Why libpci cannot be opened (libpci3 missing, no sysfs), nil when it can.
    public var libraryFailure: String? {
        guard case .failure(let error) = openedLibrary else { return nil }
        return error.message
    }

    private var openedLibrary: Result<PCILibrary, PCILibraryError> {
        if let cachedLibrary { return cachedLibrary }
        let opened = Result { () throws(PCILibraryError) in try PCILibrary(root: root) }
        cachedLibrary = opened
        return opened
    }

    /// The devices a user's name stands for.
    public func resolve(_ text: String, future: Bool = false) throws(XVFError) -> [ResolvedDevice] {
        let inventory = try inventory()
        do { return try inventory.resolve(DeviceName(parsing: text), future: future) } catch { throw XVFError(error) }
    }

    /// The SR-IOV PF a user names (`eno49`, `04:00.0`).
    public func physicalFunction(_ text: String) throws(XVFError) -> PCIDevice {
        let inventory = try inventory()
        do { return try inventory.physicalFunction(named: text) } catch { throw XVFError(error) }
    }

    /// The one existing device a name stands for.
    public func device(_ text: String) throws(XVFError) -> PCIDevice {
        let found = try resolve(text)
        guard found.count == 1 else { throw XVFError(.namesSeveral(name: text, count: found.count)) }
        guard let device = found[0].device else {
            throw XVFError(.notCreatedYet(name: text))
        }
        return device
    }
}
