import ArgumentParser
import XVFKit

/// `xvf assignable add|list|remove`: xl's pci-assignable-* through libxl.
struct AssignableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assignable",
        abstract: "Make devices ready for guests (bound to pciback, quarantined by Xen), list them, give them back.",
        subcommands: [Add.self, ListAssignable.self, Remove.self])

    struct Add: ChangingCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Bind devices to pciback for passthrough (xl pci-assignable-add), remembering their driver.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Devices: addresses (05:10.0), VFs (eno49/3), VF lists (eno49/0-3, eno49/*).") var devices: [String]
        @Option(help: "A name for the device (one device only); `assignable remove NAME` and name= specs use it.")
        var name: String?
        @Flag(help: "Do not remember the current driver (remove --rebind then leaves the device without one).")
        var noRebind = false
        @OptionGroup var change: ChangeOptions

        func run(on host: Host) throws(XVFError) {
            let report = try AssignableSet.add(devices, name: name, rebind: !noRebind, on: host, dryRun: dryRun)
            say(report)
        }
    }

    struct ListAssignable: HostCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the devices on pciback that no domain holds, with their names.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run(on host: Host) throws(XVFError) {
            let report = try AssignableSet.list(on: host)
            output(json ? report.json.serialized() + "\n" : report.table())
        }
    }

    struct Remove: ChangingCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Take devices off pciback (xl pci-assignable-remove); --rebind gives them back to their driver.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Devices or assignable names.") var devices: [String]
        @Flag(help: "Bind each device back to the driver it had before `assignable add`.") var rebind = false
        @OptionGroup var change: ChangeOptions

        func run(on host: Host) throws(XVFError) {
            let report = try AssignableSet.remove(devices, rebind: rebind, on: host, dryRun: dryRun)
            say(report)
        }
    }
}
