#!/bin/sh
# Runs one client test under strace and checks that what it changed in a
# directory is fsync'd into it afterwards, so that a crash cannot undo it.
# Usage: fsync_check.sh <stemd_client_tests> dirs|records
#   dirs:    the directory holding each directory the downloader created is
#            fsync'd after the mkdir (else the new entry, and the files in
#            it, can be lost);
#   records: the directory of each resume record deleted is fsync'd after
#            the unlink (else the record can come back beside the bytes of a
#            fresh transfer).
# Exits 77 (skipped) where strace is not installed or cannot trace.
set -eu
tests=$1
check=$2
if ! command -v strace >/dev/null 2>&1; then
    echo "strace is not installed: skipped" >&2
    exit 77
fi
case $check in
dirs)
    calls=fsync,mkdir,mkdirat
    test_case="downloader: new directories are made durable"
    ;;
records)
    calls=fsync,unlinkat
    test_case="partial_file: a deleted resume record is made durable"
    ;;
*)
    echo "unknown check '$check': use dirs or records" >&2
    exit 2
    ;;
esac
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! strace -f -y -qq -e trace=$calls -o "$log" true 2>/dev/null; then
    echo "strace cannot trace here (ptrace not permitted?): skipped" >&2
    exit 77
fi
# LeakSanitizer cannot run under ptrace: in a sanitizer build the traced
# run checks for leaks nowhere (the same cases run untraced in the suite).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -y -qq -e trace=$calls -o "$log" "$tests" -tc="$test_case" >/dev/null
# changed[i]: the directory to be fsync'd; shown[i]: what changed in it.
# Only what the download made below the test's workspace ("/out...") counts
# for dirs; the workspace itself is the test's.
awk -v check="$check" '
    check == "dirs" && / = 0$/ && /mkdir\("[^"]*\/out[\/"]/ {
        match($0, /mkdir\("[^"]*"/); p = substr($0, RSTART + 7, RLENGTH - 8)
        shown[++n] = p; changed[n] = p; sub(/\/[^\/]*$/, "", changed[n]); flushed[n] = 0
    }
    check == "dirs" && / = 0$/ && /mkdirat\([0-9]+<[^>]*\/out[\/>]/ {
        match($0, /<[^>]*>/); d = substr($0, RSTART + 1, RLENGTH - 2)
        match($0, />, "[^"]*"/); name = substr($0, RSTART + 4, RLENGTH - 5)
        shown[++n] = d "/" name; changed[n] = d; flushed[n] = 0
    }
    check == "records" && / = 0$/ && /unlinkat\([0-9]+<[^>]*>, "[^"]*\.part\.meta", / {
        match($0, /<[^>]*>/); d = substr($0, RSTART + 1, RLENGTH - 2)
        match($0, />, "[^"]*"/); name = substr($0, RSTART + 4, RLENGTH - 5)
        shown[++n] = d "/" name; changed[n] = d; flushed[n] = 0
    }
    / = 0$/ && /fsync\([0-9]+</ {
        match($0, /<[^>]*>/); f = substr($0, RSTART + 1, RLENGTH - 2)
        for (i = 1; i <= n; i++)
            if (changed[i] == f) flushed[i] = 1
    }
    END {
        want = check == "dirs" ? 4 : 3
        bad = 0
        for (i = 1; i <= n; i++)
            if (!flushed[i]) { print "its directory never fsync'\''d after: " shown[i]; bad = 1 }
        if (n < want) { print "expected at least " want " changes, saw " n; bad = 1 }
        if (!bad) print n " changes (" check "), each directory fsync'\''d after"
        exit bad
    }
' "$log"
