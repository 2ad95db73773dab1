import XenPCI

/// What `xvf --version` says: xvf's own version and the Xen releases whose libxl it loads. It loads none to
/// say so: Xen's libraries are opened only by a command that needs them.
public enum XVFVersion {
    public static let number = "0.1.0"

    public static var text: String {
        "xvf \(number) (libxl \(XenLibraries.supportedRange), loaded when a command needs Xen)"
    }
}
