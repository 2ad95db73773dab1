#!/bin/sh
# digest.sh DIR: one hash of a tree: every name with its type, mode and link target, and every file's
# content. Two equal hashes: nothing under DIR was created, removed, changed or chmod'ed in between.
set -eu
cd "$1"
{
    find . -printf '%p %y %m %l\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
} | sha256sum | cut -d' ' -f1
