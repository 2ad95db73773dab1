#!/usr/bin/env python3
"""xvf against lspci on the same simulated hosts.

For each host size (PFs x VFs) it writes a simulated host with xvf-sim, then times, alternating in one
run, `xvf list --json` and `lspci -A linux-sysfs -O sysfs.path=<tree>/sys/bus/pci -nn -D` -- the peer
a user would reach for -- and prints the medians and the ratio xvf/lspci. It also times `xvf --version`
(start-up), and for `xvf boot` on hosts up to 64x64 the time its plan takes (`--dry-run`) and the
processes it starts. Wall-clock medians of whole processes, like a user sees them.

Usage: bench.py BINDIR [--runs N] [--sizes dl360,4x7,16x64,64x64]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


# Simulator layouts a host can be named by instead of a size.
LAYOUTS = ("dl360", "families")


def timed(argv, env=None):
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {done.returncode}: {done.stderr.decode().strip()}")
    return elapsed


def count_lines(argv):
    out = subprocess.run(argv, capture_output=True, check=True).stdout.decode()
    return len(out.splitlines())


def boot_processes(xvf, sim, work, runs):
    """`xvf boot` must start a number of processes that does not grow with the VF count: one `ip -batch`
    for every VF setting. Fake `ip` and `modprobe` on PATH count their own runs. Its plan alone is timed
    as `xvf boot --dry-run` (reading the host and the config, checking it, planning every step)."""
    fakes = os.path.join(work, "fake-bin")
    os.makedirs(fakes, exist_ok=True)
    log = os.path.join(work, "spawned")
    for tool in ("ip", "modprobe"):
        path = os.path.join(fakes, tool)
        with open(path, "w") as script:
            script.write(f"#!/bin/sh\necho {tool} >> {log}\ncat > /dev/null\n")
        os.chmod(path, 0o755)
    print(f"{'host':>8} {'VF settings':>11} {'plan (boot --dry-run)':>22} {'processes spawned by xvf boot':>30}")
    for pfs, vfs in ((16, 8), (16, 64), (64, 64)):
        root = os.path.join(work, f"boot-{pfs}x{vfs}")
        subprocess.run([sim, root, "--layout", "large", "--pfs", str(pfs), "--vfs", str(vfs)], check=True)
        config = os.path.join(work, f"boot-{pfs}x{vfs}.cfg")
        macs = [f"'ens{p}f0/{v},mac=52:54:00:{p:02x}:{v:02x}:01,vlan={100 + p}'" for p in range(pfs) for v in range(vfs)]
        with open(config, "w") as out:
            out.write("sriov = [ " + ", ".join(f"'ens{p}f0,vfs={vfs}'" for p in range(pfs)) + " ]\n")
            out.write("vf = [ " + ",\n       ".join(macs) + " ]\n")
            out.write("assignable = [ " + ", ".join(f"'ens{p}f0/0-{vfs // 2 - 1}'" for p in range(pfs)) + " ]\n")
        env = dict(os.environ, PATH=fakes + ":" + os.environ.get("PATH", ""), XVF_FAKE_BIN=fakes)
        plan = statistics.median(timed([sim, "xvf", "--root", root, "boot", "--config", config, "--dry-run"], env)
                                 for _ in range(runs))
        if os.path.exists(log):
            os.remove(log)
        done = subprocess.run([sim, "xvf", "--root", root, "boot", "--config", config], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            sys.exit(f"bench: xvf boot on {pfs}x{vfs} exited {done.returncode}: {done.stderr.decode().strip()}")
        spawned = open(log).read().split() if os.path.exists(log) else []
        print(f"{pfs}x{vfs:<5} {len(macs):>11} {plan * 1000:>19.1f} ms {len(spawned):>30} "
              f"({', '.join(sorted(set(spawned))) or 'none'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bindir", help="directory holding the xvf and xvf-sim binaries (a release build)")
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each command per size")
    parser.add_argument("--sizes", default="dl360,4x7,16x64,64x64",
                        help="hosts, comma-separated: PFSxVFS, or a layout's name (dl360: the demo host)")
    args = parser.parse_args()

    xvf = os.path.join(args.bindir, "xvf")
    sim = os.path.join(args.bindir, "xvf-sim")
    lspci = shutil.which("lspci")
    if lspci is None:
        sys.exit("bench: lspci is missing (apt-get install pciutils)")
    work = tempfile.mkdtemp(prefix="xvf-bench-")
    try:
        print(f"{'host':>8} {'functions':>9} {'xvf list --json':>16} {'lspci -nn -D':>13} {'xvf/lspci':>10}")
        for size in args.sizes.split(","):
            root = os.path.join(work, size)
            if size in LAYOUTS:  # a simulator layout as it is, e.g. the seeds' demo host
                subprocess.run([sim, root, "--layout", size], check=True)
            else:
                pfs, vfs = (int(n) for n in size.lower().split("x"))
                subprocess.run([sim, root, "--layout", "large", "--pfs", str(pfs), "--vfs", str(vfs)], check=True)
            xvf_argv = [xvf, "--root", root, "list", "--json"]  # the shipped binary: list only reads files
            lspci_argv = [lspci, "-A", "linux-sysfs", "-O", f"sysfs.path={root}/sys/bus/pci", "-nn", "-D"]
            functions = count_lines(lspci_argv)
            # One untimed run each warms the page cache for both alike.
            timed(xvf_argv)
            timed(lspci_argv)
            xvf_times, lspci_times = [], []
            for _ in range(args.runs):
                xvf_times.append(timed(xvf_argv))
                lspci_times.append(timed(lspci_argv))
            x, l = statistics.median(xvf_times), statistics.median(lspci_times)
            print(f"{size:>8} {functions:>9} {x * 1000:>13.1f} ms {l * 1000:>10.1f} ms {x / l:>10.2f}")
        boot_processes(xvf, sim, work, args.runs)
        version = [timed([xvf, "--version"]) for _ in range(args.runs)]
        true = [timed(["/bin/true"]) for _ in range(args.runs)]
        print(f"xvf --version: {statistics.median(version) * 1000:.1f} ms "
              f"(/bin/true: {statistics.median(true) * 1000:.1f} ms)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
