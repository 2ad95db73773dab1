import SRIOV

extension HostRoot {
    /// The text of a file xvf edits, every byte kept; nil when it does not exist. A file that cannot be
    /// edited safely (not a regular file, too large) is one line naming it.
    func existingText(_ relative: String) throws(XVFError) -> String? {
        do { return try editableText(relative) } catch { throw XVFError(.unreadable, underlying: error) }
    }
}
