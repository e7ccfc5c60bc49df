#!/usr/bin/env bash
# Checks deploy/stemd.service (and, when given, deploy/stemd.socket, which
# must name it) with systemd's own tools:
#   systemd-analyze verify   must print nothing (no unknown or misspelt keys,
#                            no bad values), and
#   systemd-analyze security must rate the unit's exposure at most 1.5.
# verify insists that ExecStart= names an executable, so it reads a copy of
# the unit whose ExecStart= is the stemd just built; the rest is unchanged.
# Exits 77 (skipped) where systemd-analyze is not installed.
set -euo pipefail

unit=${1:?usage: unit_check.sh <stemd.service> <stemd binary> [stemd.socket]}
binary=${2:?usage: unit_check.sh <stemd.service> <stemd binary> [stemd.socket]}
socket=${3:-}
max_exposure=1.5

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze is not installed (Debian package: systemd); skipped"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/units"
copy="$work/units/$(basename "$unit")"
sed "s|^ExecStart=/usr/local/bin/stemd |ExecStart=$binary |" "$unit" >"$copy"
if ! grep -q "^ExecStart=$binary " "$copy"; then
    echo "FAIL: $unit has no 'ExecStart=/usr/local/bin/stemd ...' line to check"
    exit 1
fi

# The socket unit beside the service copy, so its Service= finds it.
units=("$copy")
if [ -n "$socket" ]; then
    cp "$socket" "$work/units/"
    units+=("$work/units/$(basename "$socket")")
fi

# --man=no: the Documentation= page is not looked up (no man database here).
status=0
said=$(systemd-analyze verify --man=no "${units[@]}" 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$said" ]; then
    echo "FAIL: systemd-analyze verify ${units[*]##*/} (exit $status):"
    echo "$said"
    exit 1
fi
echo "systemd-analyze verify ${units[*]##*/}: clean"

report=$(LC_ALL=C.UTF-8 systemd-analyze security --offline=true "$copy" 2>&1) || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$report")
if [ -z "$score" ]; then
    echo "FAIL: no exposure level in the output of systemd-analyze security:"
    echo "$report"
    exit 1
fi
if awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s > m) }'; then
    echo "FAIL: $unit has exposure level $score, above $max_exposure; what is still open:"
    grep '✗' <<<"$report" || true
    exit 1
fi
echo "systemd-analyze security: exposure $score (at most $max_exposure)"
