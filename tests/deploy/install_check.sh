#!/usr/bin/env bash
# The Debian package, as a user gets it: builds stemd_VERSION_ARCH.deb with
# cpack, runs lintian on it (no errors), debootstraps a fresh minbase
# bookworm from the mirror this machine's apt uses, installs the package
# there with `apt-get install ./stemd_*.deb`, and inside that root checks the
# binary, the stemd user, the conffile, then runs a job (`stemd simulate` and
# `stemd serve` with the packaged configuration, as the stemd user, in a
# network namespace of their own so fixed ports collide with nothing), then
# upgrades (the same .deb again), removes and purges the package (stems
# stay, the database and its lock go).
# Needs root and the network to the mirror; exits 77 (skipped) without root
# or without debootstrap/lintian.
set -euo pipefail

build=${1:?usage: install_check.sh <build dir> <work dir>}
work=${2:?usage: install_check.sh <build dir> <work dir>}
root=$work/root
started=$(date +%s)

skip() {
    echo "SKIPPED: $*"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mount)"
for tool in debootstrap lintian dpkg-deb unshare ip; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (see .ci/install-deps)"
done

# The Debian mirror apt is configured with: the first enabled "deb" source
# for bookworm, in one-line or deb822 form.
mirror=$(
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && awk '$1 == "deb" { sub(/\[[^]]*\] */, "")
                                           if ($3 == "bookworm") { print $2; exit } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && awk 'BEGIN { RS = ""; FS = "\n" }
            { uri = ""; suite = 0; on = 1
              for (i = 1; i <= NF; i++) {
                  if ($i ~ /^URIs:/) { split($i, a, " "); uri = a[2] }
                  if ($i ~ /^Suites:/ && $i ~ / bookworm( |$)/) suite = 1
                  if ($i ~ /^Types:/ && $i !~ / deb( |$)/) on = 0
                  if ($i ~ /^Enabled: *no/) on = 0 }
              if (uri != "" && suite && on) { print uri; exit } }' "$f"
    done | head -n 1
)
[ -n "$mirror" ] || { echo "FAIL: no bookworm 'deb' source in /etc/apt/sources.list(.d)"; exit 1; }

mounts=()
cleanup() {
    local status=$? m
    [ "$status" -eq 0 ] || echo "(the root is left in $root for a look; the next run removes it)"
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        m=${mounts[i]}
        mountpoint -q "$m" && umount -l "$m"
    done
    return 0
}
trap cleanup EXIT
step() { echo "== $* ($(($(date +%s) - started)) s)"; }

# A fresh root every time: nothing from an earlier run is reused.
if [ -d "$root" ]; then
    grep -q " $root/" /proc/mounts && { echo "FAIL: something is still mounted under $root"; exit 1; }
    rm -rf "$root"
fi
mkdir -p "$work/pkg" "$root"
rm -f "$work"/pkg/*.deb

step "building the package"
cpack --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log"; echo "FAIL: cpack"; exit 1; }
debs=("$work"/pkg/stemd_*_"$(dpkg --print-architecture)".deb)
deb=${debs[0]}
[ -f "$deb" ] || { cat "$work/cpack.log"; echo "FAIL: cpack made no stemd_*.deb"; exit 1; }
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb"

unpacked=$work/unpacked
rm -rf "$unpacked"
dpkg-deb --extract "$deb" "$unpacked"
grep -qx 'ExecStart=/usr/bin/stemd serve --config /etc/stemd/stemd.toml' \
    "$unpacked/lib/systemd/system/stemd.service" ||
    { echo "FAIL: the packaged unit does not start /usr/bin/stemd"; exit 1; }
if readelf -S "$unpacked/usr/bin/stemd" | grep -q '\.debug_info'; then
    echo "FAIL: /usr/bin/stemd in the package is not stripped"
    exit 1
fi
rm -rf "$unpacked"

step "lintian"
lintian_said=$(lintian --display-info "$deb" 2>&1 | grep -v "^running with root privileges") || true
echo "${lintian_said:-lintian: no tags}"
if grep -q '^E: ' <<<"$lintian_said"; then
    echo "FAIL: lintian reports errors"
    exit 1
fi

step "debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log"; echo "FAIL: debootstrap"; exit 1; }
for m in proc sys dev; do
    mounts+=("$root/$m")
done
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

step "apt-get install ./$(basename "$deb")"
in_root sh -c "cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./$(basename "$deb")" \
    >"$work/apt.log" 2>&1 || { tail -n 40 "$work/apt.log"; echo "FAIL: apt-get install"; exit 1; }
grep -E '^(Setting up|The following NEW)' "$work/apt.log" || true

step "the job in the fresh root"
cp "$(dirname "$0")/in_root_job.sh" "$root/tmp/"
unshare --net sh -c "ip link set lo up && exec chroot '$root' /usr/bin/env -i \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 bash /tmp/in_root_job.sh \
    /tmp/$(basename "$deb")"

cleanup
mounts=()
rm -rf "$root"
step "passed"
