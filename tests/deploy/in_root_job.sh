#!/usr/bin/env bash
# Runs inside the fresh root once the package is installed (see
# install_check.sh): what an administrator would check and do.
set -euo pipefail

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

# purge: the database, the token and the configuration go; the stems and
# the stemd user who owns them stay.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q stemd >/tmp/purge.log 2>&1 ||
    { cat /tmp/purge.log; fail "apt-get purge"; }
[ ! -e /var/lib/stemd/stemd.db ] || fail "purge left /var/lib/stemd/stemd.db"
[ ! -e /var/lib/stemd/api-token ] || fail "purge left /var/lib/stemd/api-token"
[ ! -e /etc/stemd ] || fail "purge left /etc/stemd: $(ls -A /etc/stemd)"
[ -d /var/lib/stemd/stems ] || fail "purge removed /var/lib/stemd/stems, the user's stems"
left=$(find /var/lib/stemd/stems -type f | wc -l)
[ "$left" -eq "$stems" ] || fail "purge removed stems ($left of $stems left)"
getent passwd stemd >/dev/null || fail "purge removed the stemd user, who still owns the stems"
echo "job completed with $stems stems; purge kept them"
