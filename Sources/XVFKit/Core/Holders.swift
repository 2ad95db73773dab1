import SRIOV
import XenPCI

extension Host {
    /// Which domain holds each attached device. Off a Xen dom0 there are no domains. On a dom0 a toolstack
    /// that cannot be asked is an error; listing (`xvf list`, `xvf show`) goes on without holders (`try?`),
    /// since it never needs Xen. Commands that destroy VFs ask the toolstack they plan with
    /// (`planningToolstack`): a real run stops without it, since going ahead blind could pull a device out
    /// from under a running guest, and a dry run plans without it and says so.
    public func holders() throws(XVFError) -> Holders {
        guard isXenDom0 else { return [:] }
        return try openToolstack().currentHolders()
    }
}
