XVF.main(GlobalOptions.hoisted(Array(CommandLine.arguments.dropFirst())))
