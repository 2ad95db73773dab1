import XenPCI

/// What `xvf --version` says: xvf's own version and the libxl it runs against.
public enum XVFVersion {
    public static let number = "0.1.0"

    public static var text: String {
        "xvf \(number) (libxl \(LibxlVersion.current ?? "not loaded"))"
    }
}
