#!/usr/bin/env bash
# Runs inside the fresh root once the package is installed (see
# install_check.sh): what an administrator would check and do.
set -euo pipefail
deb=${1:?usage: in_root_job.sh /tmp/stemd_VERSION_ARCH.deb}

fail() {
    echo "FAIL: $*"
    exit 1
}
pids=()
stop() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop EXIT
as_stemd() { runuser -u stemd -- "$@"; }

stemd --version
getent passwd stemd || fail "no stemd user"
getent group stemd || fail "no stemd group"
dpkg-query -W -f='${Conffiles}\n' stemd | grep -q '^ /etc/stemd/stemd.toml ' ||
    fail "/etc/stemd/stemd.toml is not a conffile of stemd"
[ "$(stat -c '%U:%G %a' /etc/stemd/stemd.toml)" = "root:stemd 640" ] ||
    fail "/etc/stemd/stemd.toml is $(stat -c '%U:%G %a' /etc/stemd/stemd.toml), not root:stemd 640"
[ "$(stat -c '%U:%G' /var/lib/stemd)" = "stemd:stemd" ] || fail "/var/lib/stemd is not stemd's"
man -w stemd >/dev/null 2>&1 || [ -f /usr/share/man/man1/stemd.1.gz ] || fail "no stemd(1)"
[ -f /usr/share/bash-completion/completions/stemd ] || fail "no bash completion"
# Installing enables nothing: the key and the URL must be set first.
[ ! -e /etc/systemd/system/multi-user.target.wants/stemd.service ] ||
    fail "the install enabled stemd.service"

# What a user must set: the public URL and the key (where the unit's
# LoadCredential= would put it). The simulator on loopback also needs its
# base URL and plain-http, loopback links allowed.
conf=/etc/stemd/stemd.toml
sed -i -e 's|^public_url = .*|public_url = "http://127.0.0.1:8080"|' \
    -e 's|^base_url = .*|base_url = "http://127.0.0.1:8090/api/public"|' \
    -e 's|^allow_http = .*|allow_http = true|' \
    -e 's|^allow_private_addresses = .*|allow_private_addresses = true|' "$conf"
install -d -m 0700 -o stemd /run/credentials/stemd.service
echo "test-key-1" | install -m 0400 -o stemd /dev/stdin /run/credentials/stemd.service/api-key

cd /var/lib/stemd
as_stemd stemd simulate --listen 127.0.0.1:8090 --api-key test-key-1 --webhook-delay-ms 100 \
    >/tmp/simulate.log 2>&1 &
pids+=($!)
as_stemd stemd serve >/tmp/serve.log 2>&1 &
pids+=($!)
deadline=$((SECONDS + 30))
until as_stemd stemd list >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "${pids[1]}" 2>/dev/null; then
        cat /tmp/serve.log
        fail "stemd serve did not answer within 30 s"
    fi
    sleep 0.2
done
as_stemd stemd submit --url https://songs.example/track.mp3 --stems vocals,drums --wait --timeout 60 ||
    { cat /tmp/serve.log; fail "the job did not complete"; }
as_stemd stemd list
stems=$(find /var/lib/stemd/stems -type f ! -name '*.part' | wc -l)
[ "$stems" -ge 2 ] || { find /var/lib/stemd; fail "expected at least 2 stems, found $stems"; }
find /var/lib/stemd/stems -type f -printf '%u:%g %m %s %p\n'
stop
pids=()

[ -e /var/lib/stemd/stemd.db.lock ] || fail "stemd serve made no /var/lib/stemd/stemd.db.lock"

# The maintainer scripts as on a machine that runs systemd: /run/systemd/system
# exists, and systemctl and deb-systemd-invoke (ahead on PATH) write down
# what they were asked to do instead of doing it, since no systemd runs here.
mkdir -p /run/systemd/system /usr/local/sbin
for tool in systemctl deb-systemd-invoke; do
    printf '#!/bin/sh\necho "%s $*" >>/tmp/invoked\n' "$tool" >/usr/local/sbin/$tool
    chmod 755 /usr/local/sbin/$tool
done
# (apt-get gives dpkg a PATH of its own, DPkg::Path.)
admin_path=/usr/local/sbin:$PATH
as_admin() { PATH=$admin_path DEBIAN_FRONTEND=noninteractive "$@"; }
apt_admin() { as_admin apt-get -o DPkg::Path="$admin_path" -y -q "$@"; }
invoked() { cat /tmp/invoked 2>/dev/null || true; }

# upgrade (the same package again): the edited conffile, the database and
# the stems stay; a running service is restarted, none is started.
before=$(md5sum "$conf")
as_admin dpkg -i "$deb" >/tmp/upgrade.log 2>&1 || { cat /tmp/upgrade.log; fail "dpkg -i (upgrade)"; }
echo "upgrade asked for: $(invoked | tr '\n' ';')"
invoked | grep -qx 'deb-systemd-invoke try-restart stemd.service' ||
    fail "the upgrade does not try-restart stemd.service: $(invoked)"
! invoked | grep -E ' (start|enable|stop) ' || fail "the upgrade started, enabled or stopped stemd"
[ "$(md5sum "$conf")" = "$before" ] || fail "the upgrade changed the edited $conf"
[ "$(stat -c '%U:%G %a' "$conf")" = "root:stemd 640" ] || fail "the upgrade changed $conf's mode"
[ -e /var/lib/stemd/stemd.db ] || fail "the upgrade removed the database"
[ ! -e /etc/systemd/system/multi-user.target.wants/stemd.service ] ||
    fail "the upgrade enabled stemd.service"
as_stemd stemd --version >/dev/null || fail "stemd does not run after the upgrade"

# remove: the daemon (and its socket) stop; configuration and state stay.
rm -f /tmp/invoked
apt_admin remove stemd >/tmp/remove.log 2>&1 || { cat /tmp/remove.log; fail "apt-get remove"; }
echo "remove asked for: $(invoked | tr '\n' ';')"
invoked | grep -q '^deb-systemd-invoke stop .*stemd.service' ||
    fail "apt-get remove does not stop stemd.service: $(invoked)"
invoked | grep -q '^deb-systemd-invoke stop .*stemd.socket' ||
    fail "apt-get remove does not stop stemd.socket: $(invoked)"
[ -e /var/lib/stemd/stemd.db ] || fail "apt-get remove removed the database"
[ -e "$conf" ] || fail "apt-get remove removed $conf"

# purge: the database, its lock, the token and the configuration go; the
# stems and the stemd user who owns them stay.
apt_admin purge stemd >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; fail "apt-get purge"; }
for f in stemd.db stemd.db-wal stemd.db-shm stemd.db.lock api-token uploads; do
    [ ! -e /var/lib/stemd/$f ] || fail "purge left /var/lib/stemd/$f"
done
[ "$(ls -A /var/lib/stemd)" = "stems" ] || fail "purge left more than stems: $(ls -A /var/lib/stemd)"
[ ! -e /etc/stemd ] || fail "purge left /etc/stemd: $(ls -A /etc/stemd)"
[ ! -e /etc/systemd/system/stemd.service ] || fail "purge left the mask of stemd.service"
! find /etc/systemd /var/lib/systemd -name 'stemd.*' 2>/dev/null | grep . ||
    fail "purge left systemd state of stemd"
[ -d /var/lib/stemd/stems ] || fail "purge removed /var/lib/stemd/stems, the user's stems"
left=$(find /var/lib/stemd/stems -type f | wc -l)
[ "$left" -eq "$stems" ] || fail "purge removed stems ($left of $stems left)"
getent passwd stemd >/dev/null || fail "purge removed the stemd user, who still owns the stems"
echo "job completed with $stems stems; upgrade restarted, remove stopped, purge kept the stems"
