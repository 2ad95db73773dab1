// swift-tools-version:6.0
// xvf: SR-IOV virtual functions and PCI passthrough on Xen hosts.
// Licensed under the Apache License, Version 2.0 (LICENSE at the top of this repository).
import PackageDescription

let package = Package(
    name: "xvf",
    products: [
        .executable(name: "xvf", targets: ["xvf"]),
        .library(name: "SRIOV", targets: ["SRIOV"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The discovery core: PCI addresses, PFs, VFs, holders, sysfs writes. FoundationEssentials at most.
        .target(name: "SRIOV", dependencies: ["CSystem"]),
        // libc declarations Glibc's module lacks (sys/xattr.h).
        .target(name: "CSystem"),

        // libpci: pci.ids names and config-space capabilities, with an exit-free error handler. Only the
        // headers at build time (libpci-dev); libpci.so.3 is loaded with dlopen at its first use.
        .target(name: "CPCI"),
        .target(name: "LibPCI", dependencies: ["CPCI", "SRIOV"]),

        // A sysfs-shaped host and a kernel that answers writes the way Linux does (tests, demo, benchmark).
        .target(name: "SimHost", dependencies: ["SRIOV"]),

        // Xen's toolstack libraries (libxl, libxlutil, xentoollog) as a Swift module.
        // Only the headers at build time (libxen-dev); the libraries are loaded with dlopen when a command
        // needs them, so one binary serves Xen 4.17 to 4.22 and starts where no Xen library is installed.
        .target(name: "CXenLight"),
        // PCI spec strings and the Toolstack protocol with its libxl implementation.
        .target(name: "XenPCI", dependencies: ["CXenLight", "SRIOV"]),

        // The command layer: plans, safety checks and reports above the core; its backends (kernel
        // writes, the toolstack) are handed in by the executable.
        .target(name: "XVFKit", dependencies: ["SRIOV", "LibPCI", "XenPCI"]),

        // The command line (swift-argument-parser): parse, call XVFKit, render text or JSON.
        .target(name: "XVFCommands", dependencies: [
            "XVFKit", "SRIOV", "XenPCI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The shipped binary: the command line with the real backends, and no simulator.
        .executableTarget(name: "xvf", dependencies: ["XVFCommands", "XVFKit"]),

        // The simulator, in no product: a toolstack that keeps libxl's rules, the simulated backends,
        // and its executable (writes simulated hosts; `xvf-sim xvf …` runs the command line on them).
        .target(name: "SimXen", dependencies: ["XenPCI", "SimHost", "SRIOV", "XVFKit"]),
        .executableTarget(name: "xvf-sim", dependencies: [
            "SimHost", "SimXen", "XVFCommands",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Fuzz targets for the parsers (make fuzz builds it with -sanitize=fuzzer); in no product.
        .executableTarget(name: "xvf-fuzz", dependencies: ["XVFKit", "XenPCI", "SRIOV", "SimHost"]),

        // What the test targets share (running the binaries, temporary trees, snapshots); in no product.
        .target(name: "TestSupport", dependencies: ["SRIOV", "SimHost"], path: "Tests/TestSupport"),
        .testTarget(name: "SRIOVTests", dependencies: ["SRIOV", "CSystem", "SimHost", "TestSupport"]),
        .testTarget(name: "LibPCITests", dependencies: ["LibPCI", "SRIOV", "TestSupport"]),
        // The simulator answers as Linux and libxl do, or the tests built on it prove nothing.
        .testTarget(name: "SimHostTests", dependencies: ["SimHost", "SimXen", "SRIOV", "XVFKit", "TestSupport"]),
        .testTarget(name: "XVFKitTests", dependencies: ["XVFKit", "SimHost", "SimXen", "SRIOV", "LibPCI", "TestSupport"]),
        .testTarget(name: "XenPCITests", dependencies: ["XenPCI", "SimXen", "SRIOV", "SimHost", "TestSupport"]),
        // Golden/ holds the whole outputs the tests compare with, read from the source tree.
        .testTarget(name: "CLITests", dependencies: ["SimHost", "SRIOV", "TestSupport"], exclude: ["Golden"]),
    ]
)
