#!/usr/bin/env bash
# Tests/Ansible/run.sh [BIN_DIR [NAME...]]: the xvf.xen Ansible collection (xlcfg/ansible) against
# simulated hosts. NAMEs (facts, pci, ..., fleet) run only those.
#
# BIN_DIR holds the built xvf-sim (default .build/debug); nothing is built here. Each playbook in
# Tests/Ansible/*.yml runs on localhost (connection: local) against a fresh simulated Xen dom0
# (`xvf-sim DIR`), with the modules' `xvf` option pointing at a wrapper that runs `xvf-sim xvf "$@"`.
# Then the example fleet playbook (xlcfg/ansible/fleet.yml with its inventory) runs on one simulated host
# three times: check mode, apply, apply again; the second apply must report changed=0.
#
# ansible-core is installed, pinned, into .build/ansible-venv (python3 -m venv; on Debian, python3-venv
# is installed with apt-get when the venv module is unusable and this runs as root). Re-running reuses
# it. No standard input is read. XVF_ANSIBLE_TRANSCRIPT=FILE also saves the fleet run's three PLAY
# RECAPs to FILE (the README's transcript); XVF_ANSIBLE_KEEP=1 keeps the hosts and logs.
set -euo pipefail

ANSIBLE_CORE_VERSION=2.19.14   # supports Python 3.11-3.13 (Debian 12's 3.11, Debian 13's 3.13)

bin_dir=${1:-.build/debug}
shift || true
only=" $* "
selected() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ -d "$bin_dir" ] || bin_dir=$repo/$bin_dir
bin_dir=$(cd "$bin_dir" 2>/dev/null && pwd) || { echo "ansible: no directory ${1:-.build/debug}" >&2; exit 1; }
sim=$bin_dir/xvf-sim
[ -x "$sim" ] || { echo "ansible: $sim is missing: build xvf first (swift build)" >&2; exit 1; }
cd "$repo"
start=$SECONDS

# UTF-8 whatever the caller's locale (ansible-core refuses any other encoding).
export LC_ALL=C.UTF-8 LANG=C.UTF-8

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xvf-ansible.XXXXXX")
if [ "${XVF_ANSIBLE_KEEP:-0}" = 1 ]; then
    trap 'echo "ansible: the runs, their hosts and logs are in $tmp"' EXIT
else
    trap 'rm -rf "$tmp"' EXIT
fi

# A copy of the simulator: a build that relinks BIN_DIR/xvf-sim meanwhile does not reach this run.
cp "$sim" "$tmp/xvf-sim"
sim=$tmp/xvf-sim
"$sim" --help >/dev/null || { echo "ansible: $sim does not run" >&2; exit 1; }

# --- ansible-core in a venv -----------------------------------------------------------------------
venv=$repo/.build/ansible-venv
venv_version() {
    "$venv/bin/python" -c 'import ansible.release; print(ansible.release.__version__)' 2>/dev/null || true
}
if [ "$(venv_version)" != "$ANSIBLE_CORE_VERSION" ] || [ ! -x "$venv/bin/ansible-playbook" ]; then
    if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        rm -rf "$venv"
        if ! python3 -m venv "$venv" >"$tmp/venv.log" 2>&1; then
            rm -rf "$venv"
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                echo "ansible: python3 -m venv is unusable; installing python3-venv"
                apt-get update -qq </dev/null
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv </dev/null >/dev/null
                python3 -m venv "$venv"
            else
                cat "$tmp/venv.log" >&2
                echo "ansible: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
                exit 1
            fi
        fi
    fi
    echo "ansible: installing ansible-core $ANSIBLE_CORE_VERSION into $venv"
    PIP_NO_INPUT=1 "$venv/bin/python" -m pip install --disable-pip-version-check -q \
        "ansible-core==$ANSIBLE_CORE_VERSION" </dev/null
fi
python=$venv/bin/python
playbook=$venv/bin/ansible-playbook

# --- Ansible's settings: this collection only, nothing written under ~ or into the tree --------------
cat >"$tmp/ansible.cfg" <<'EOF'
[defaults]
retry_files_enabled = False
EOF
export ANSIBLE_CONFIG=$tmp/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH=$repo/xlcfg/ansible
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False
export ANSIBLE_HOME=$tmp/ansible-home
export ANSIBLE_LOCAL_TEMP=$tmp/ansible-local
export ANSIBLE_REMOTE_TEMP=$tmp/ansible-remote
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export PYTHONDONTWRITEBYTECODE=1
# One process per task, no module file copied to a temp dir first (connection local).
export ANSIBLE_PIPELINING=True

# new_host DIR: a fresh simulated host in DIR/host, and DIR/bin/xvf, the modules' `xvf`: the simulator's
# xvf (its simulated kernel and toolstack), with stand-ins for the programs xvf runs (ip, modprobe) in
# DIR/fakes, declared by XVF_FAKE_BIN as xvf requires for a host tree. The fake ip keeps the VF link
# settings in DIR/ip-state.json and lists the simulated host's VFs.
new_host() {
    local dir=$1
    mkdir -p "$dir/bin" "$dir/fakes"
    "$sim" "$dir/host" >/dev/null
    cp "$here/fake-ip" "$dir/fakes/ip"
    printf '#!/bin/sh\nexit 0\n' >"$dir/fakes/modprobe"
    chmod +x "$dir/fakes/ip" "$dir/fakes/modprobe"
    {
        echo '#!/bin/sh'
        printf 'PATH=%q:"$PATH" XVF_FAKE_BIN=%q\n' "$dir/fakes" "$dir/fakes"
        printf 'XVF_TEST_IP_STATE=%q XVF_TEST_IP_ROOT=%q\n' "$dir/ip-state.json" "$dir/host"
        echo 'export PATH XVF_FAKE_BIN XVF_TEST_IP_STATE XVF_TEST_IP_ROOT'
        printf 'exec %q xvf "$@"\n' "$sim"
    } >"$dir/bin/xvf"
    chmod +x "$dir/bin/xvf"
}

printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$python" >"$tmp/inventory.ini"

# The docs of every module parse (ansible-doc reads DOCUMENTATION, EXAMPLES and RETURN).
modules=$(cd xlcfg/ansible/ansible_collections/xvf/xen/plugins/modules && ls *.py | sed 's/^/xvf.xen./; s/\.py$//')
# shellcheck disable=SC2086
"$venv/bin/ansible-doc" -j $modules >"$tmp/doc.json" 2>"$tmp/doc.log" </dev/null || true
if ! "$python" -c 'import json, sys
docs = json.load(open(sys.argv[1]))
bad = [m for m in sys.argv[2:] if not (docs.get(m) or {}).get("doc") or not docs[m].get("examples") or not docs[m].get("return")]
sys.exit("ansible: no DOCUMENTATION, EXAMPLES or RETURN read from: " + " ".join(bad) if bad else 0)' "$tmp/doc.json" $modules; then
    cat "$tmp/doc.log" >&2
    exit 1
fi

passed=0
failed=()

# vars_file FILE DIR [KEY=VALUE...]: the extra vars of a run on new_host DIR, as JSON (paths may hold
# any character).
vars_file() {
    "$python" -c 'import json, sys
out, d = sys.argv[1:3]
extra = dict(kv.split("=", 1) for kv in sys.argv[3:])
json.dump(dict(xvf_root=d + "/host", xvf_bin=d + "/bin/xvf", **extra), open(out, "w"))' "$@"
}

for book in "$here"/*.yml; do
    name=$(basename "$book" .yml)
    selected "$name" || continue
    new_host "$tmp/$name"
    vars_file "$tmp/$name/vars.json" "$tmp/$name" "digest=$here/digest.sh" "repo=$repo"
    t0=$SECONDS
    if "$playbook" -i "$tmp/inventory.ini" -e "@$tmp/$name/vars.json" "$book" >"$tmp/$name/log" 2>&1 </dev/null; then
        passed=$((passed + 1))
        echo "ansible: ok     $name ($((SECONDS - t0)) s)"
    else
        failed+=("$name")
        echo "ansible: FAILED $name; its output:"
        sed 's/^/    /' "$tmp/$name/log"
    fi
done


# --- the example fleet playbook: check mode, apply, apply again, on host dom0-a of its inventory ------
fleet() {
    local dir=$tmp/fleet
    local host=$dir/host run recap changed digest_before
    new_host "$dir"
    # The domain configs the example edits exist on a real host; give the simulated one its own.
    mkdir -p "$host/etc/xen"
    cp xlcfg/pv-domu.cfg "$host/etc/xen/web1.cfg"
    sed 's/^name = "web1"/name = "db1"/' xlcfg/pv-domu.cfg >"$host/etc/xen/db1.cfg"
    vars_file "$dir/vars.json" "$dir" ansible_connection=local "ansible_python_interpreter=$python"
    digest_before=$("$here/digest.sh" "$host")
    : >"$dir/recaps"
    for run in check apply again; do
        local args=()
        [ "$run" = check ] && args=(--check)
        if ! "$playbook" -i xlcfg/ansible/inventory.ini -l dom0-a -e "@$dir/vars.json" "${args[@]}" \
            xlcfg/ansible/fleet.yml >"$dir/$run.log" 2>&1 </dev/null; then
            echo "ansible: fleet.yml ($run) failed; its output:"
            sed 's/^/    /' "$dir/$run.log"
            return 1
        fi
        recap=$(sed -n '/^PLAY RECAP/,$p' "$dir/$run.log" | sed '/^$/d')
        {
            echo "\$ ansible-playbook -i inventory.ini fleet.yml --limit dom0-a${args[*]:+ ${args[*]}}"
            echo "$recap"
            echo
        } >>"$dir/recaps"
        changed=$(echo "$recap" | sed -n 's/^dom0-a *: .*changed=\([0-9]*\).*/\1/p')
        case $run in
            check)
                [ "${changed:-0}" -gt 0 ] || { echo "ansible: fleet.yml --check reported no change:"; echo "$recap"; return 1; }
                [ "$("$here/digest.sh" "$host")" = "$digest_before" ] || { echo "ansible: fleet.yml --check changed the host"; return 1; } ;;
            apply)
                [ "${changed:-0}" -gt 0 ] || { echo "ansible: fleet.yml changed nothing:"; echo "$recap"; return 1; } ;;
            again)
                [ "$changed" = 0 ] || { echo "ansible: fleet.yml run again changed ${changed:-?}:"; echo "$recap"; return 1; } ;;
        esac
    done
    [ -z "${XVF_ANSIBLE_TRANSCRIPT:-}" ] || cp "$dir/recaps" "$XVF_ANSIBLE_TRANSCRIPT"
}
t0=$SECONDS
if ! selected fleet; then
    :
elif fleet; then
    passed=$((passed + 1))
    echo "ansible: ok     fleet ($((SECONDS - t0)) s: check mode, apply, apply again)"
else
    failed+=(fleet)
fi

total=$((passed + ${#failed[@]}))
if [ "${#failed[@]}" -gt 0 ]; then
    echo "ansible: $passed playbooks passed, ${#failed[@]} failed (${failed[*]}) of $total in $((SECONDS - start)) s"
    exit 1
fi
echo "ansible: $passed playbooks passed in $((SECONDS - start)) s (ansible-core $ANSIBLE_CORE_VERSION)"
