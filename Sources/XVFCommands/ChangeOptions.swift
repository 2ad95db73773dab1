import ArgumentParser

/// The options of every command that changes the host, declared once (as argument-parser's own examples
/// share options with `@OptionGroup`), so that they read and behave the same everywhere.
struct ChangeOptions: ParsableArguments {
    @Flag(help: "Print each step it would take, and change nothing.")
    var dryRun = false

    @Flag(help: "Print the result as one JSON object: changed, dry_run, steps, warnings, messages, error.")
    var json = false

    /// The last line of every dry run that got through its plan, said here alone so that every command
    /// words it alike (a refused one ends with its reason instead).
    static let dryRunEnd = "dry run: nothing was changed"

    /// Left out by default: a domain config can hold passwords, and results end up in logs.
    @Flag(help: "With --json, give each written file's new content in its step (vncpasswd and spicepasswd masked).")
    var showContent = false
}
