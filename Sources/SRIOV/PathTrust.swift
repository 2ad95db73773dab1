#if canImport(Glibc)
import Glibc
#endif

/// Who could have changed a file behind root's back, as sshd's StrictModes asks it: xvf edits files and
/// applies its host config as root, so a file in a directory another user can write is one that user
/// can swap (for a link to /etc/shadow, or a config of their own) between xvf's look and its write.
///
/// A directory may be owned by root or by the file's owner, and written by its owner only; a directory
/// with the sticky bit (`/tmp`) may be written by anyone, since there nobody can rename or remove an
/// entry of another owner, and the entry below it is checked in turn.
public enum PathTrust {
    /// Why `stat` describes a directory whose entries a user other than root or `owner` can change;
    /// nil when it is safe.
    static func untrusted(directory info: stat, owner: uid_t) -> String? {
        if info.st_uid != 0 && info.st_uid != owner {
            return "is owned by uid \(info.st_uid), neither root nor the file's owner"
        }
        if info.st_mode & S_ISVTX != 0 { return nil }
        if info.st_mode & 0o022 != 0 {
            return "is writable by " + (info.st_mode & 0o002 != 0 ? "every user" : "its group (gid \(info.st_gid))")
        }
        return nil
    }

    /// Why a file that root acts on cannot be trusted: one of the directories its path runs through, as
    /// named and as its links lead, can be written by a user other than root or `owner` (the file's
    /// owner; for a file still to be made, the user xvf runs as). nil when it can be trusted.
    public static func problem(at absolute: String, owner fileOwner: uid_t? = nil) -> String? {
        var info = stat()
        let owner = fileOwner ?? (stat(absolute, &info) == 0 ? info.st_uid : geteuid())
        let real = canonicalPath(absolute)
        for path in [absolute] + (real.map { $0 == absolute ? [] : [$0] } ?? []) {
            if let why = check("/", owner: owner) { return why }
            var current = ""
            for part in path.split(separator: "/").dropLast() {
                current += "/" + part
                if let why = check(current, owner: owner) { return why }
            }
        }
        return nil
    }

    private static func check(_ directory: String, owner: uid_t) -> String? {
        var info = stat()
        // A directory still to be made is made by xvf, as root.
        guard stat(directory, &info) == 0 else { return nil }
        return untrusted(directory: info, owner: owner).map { "\(directory) \($0)" }
    }

    /// Why a file root applies as it is (the host config, a record in /run/xvf) cannot be trusted: it must
    /// be a regular file owned by root (or the user xvf runs as) that nobody else may write, in
    /// directories only they may write. nil when it can be trusted or does not exist.
    public static func problemApplying(_ absolute: String) -> String? {
        var info = stat()
        guard stat(absolute, &info) == 0 else { return nil }
        if info.st_mode & S_IFMT != S_IFREG { return "\(absolute) is not a regular file" }
        if info.st_uid != 0 && info.st_uid != geteuid() { return "\(absolute) is owned by uid \(info.st_uid), not root" }
        if info.st_mode & 0o022 != 0 {
            return "\(absolute) is writable by " + (info.st_mode & 0o002 != 0 ? "every user" : "its group (gid \(info.st_gid))")
        }
        return problem(at: absolute, owner: geteuid())
    }
}
