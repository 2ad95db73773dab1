import XVFCommands
import XVFKit

// The shipped binary: kernel writes go to sysfs, Xen is reached through libxl.
XVFCommandLine.main(Array(CommandLine.arguments.dropFirst()), backends: .real)
