#!/bin/sh
# Runs the downloader's "new directories" test under strace and checks that
# the directory holding each directory it created is fsync'd after the
# mkdir, so that a crash cannot lose the new entry (and the files in it).
# Usage: fsync_check.sh <stemd_client_tests>. Exits 77 (skipped) where
# strace is not installed or cannot trace.
set -eu
tests=$1
if ! command -v strace >/dev/null 2>&1; then
    echo "strace is not installed: skipped" >&2
    exit 77
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! strace -f -y -qq -e trace=fsync,mkdir,mkdirat -o "$log" true 2>/dev/null; then
    echo "strace cannot trace here (ptrace not permitted?): skipped" >&2
    exit 77
fi
# LeakSanitizer cannot run under ptrace: in a sanitizer build the traced
# run checks for leaks nowhere (the same test runs untraced in the suite).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -y -qq -e trace=fsync,mkdir,mkdirat -o "$log" \
    "$tests" -tc="downloader: new directories are made durable" >/dev/null
# Only what the download made below the test's workspace ("/out..."); the
# workspace itself is the test's.
awk '
    / = 0$/ && /mkdir\("[^"]*\/out[\/"]/ {
        match($0, /mkdir\("[^"]*"/); p = substr($0, RSTART + 7, RLENGTH - 8)
        created[++n] = p; flushed[n] = 0
    }
    / = 0$/ && /mkdirat\([0-9]+<[^>]*\/out[\/>]/ {
        match($0, /<[^>]*>/); d = substr($0, RSTART + 1, RLENGTH - 2)
        match($0, />, "[^"]*"/); name = substr($0, RSTART + 4, RLENGTH - 5)
        created[++n] = d "/" name; flushed[n] = 0
    }
    / = 0$/ && /fsync\([0-9]+</ {
        match($0, /<[^>]*>/); f = substr($0, RSTART + 1, RLENGTH - 2)
        for (i = 1; i <= n; i++) {
            parent = created[i]; sub(/\/[^\/]*$/, "", parent)
            if (parent == f) flushed[i] = 1
        }
    }
    END {
        bad = 0
        for (i = 1; i <= n; i++)
            if (!flushed[i]) { print "created, parent never fsync'\''d after: " created[i]; bad = 1 }
        if (n < 4) { print "expected at least 4 new directories, saw " n; bad = 1 }
        if (!bad) print n " new directories, each parent fsync'\''d after the mkdir"
        exit bad
    }
' "$log"
