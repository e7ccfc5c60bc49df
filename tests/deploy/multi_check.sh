#!/usr/bin/env bash
# Checks the example for N instances in deploy/multi/:
#   haproxy -c              accepts haproxy.cfg (with a throw-away
#                           certificate in place of the one it names), and
#   systemd-analyze verify  is clean for deploy/stemd.service with the
#                           drop-in stemd.service.d/postgresql.conf.
# Exits 77 (skipped) where haproxy or systemd-analyze is not installed.
set -euo pipefail

multi=${1:?usage: multi_check.sh <deploy/multi> <deploy/stemd.service> <stemd binary>}
unit=${2:?usage: multi_check.sh <deploy/multi> <deploy/stemd.service> <stemd binary>}
binary=${3:?usage: multi_check.sh <deploy/multi> <deploy/stemd.service> <stemd binary>}

for tool in haproxy systemd-analyze openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool is not installed (Debian packages: haproxy, systemd, openssl); skipped"
        exit 77
    fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The certificate the frontend names does not exist here: a self-signed one.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=stemd.example.org \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/stemd.pem"
cfg="$work/haproxy.cfg"
sed "s|crt /etc/haproxy/certs/stemd.pem|crt $work/stemd.pem|" "$multi/haproxy.cfg" >"$cfg"
grep -q "crt $work/stemd.pem" "$cfg" || { echo "FAIL: haproxy.cfg names no crt to replace"; exit 1; }
if ! said=$(haproxy -c -f "$cfg" 2>&1); then
    echo "FAIL: haproxy -c -f haproxy.cfg:"
    echo "$said"
    exit 1
fi
if grep -qi "warning" <<<"$said"; then
    echo "FAIL: haproxy -c warns:"
    echo "$said"
    exit 1
fi
echo "haproxy -c haproxy.cfg: valid"
for check in "option httpchk" "uri /healthz" "balance roundrobin"; do
    grep -q "$check" "$cfg" || { echo "FAIL: haproxy.cfg lacks '$check'"; exit 1; }
done

# The unit with the drop-in, as systemd would read them.
mkdir -p "$work/units/stemd.service.d"
sed "s|^ExecStart=/usr/local/bin/stemd |ExecStart=$binary |" "$unit" >"$work/units/stemd.service"
cp "$multi/stemd.service.d/postgresql.conf" "$work/units/stemd.service.d/"
status=0
said=$(cd "$work/units" && SYSTEMD_UNIT_PATH="$work/units:" \
    systemd-analyze verify --man=no "$work/units/stemd.service" 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$said" ]; then
    echo "FAIL: systemd-analyze verify stemd.service + postgresql.conf (exit $status):"
    echo "$said"
    exit 1
fi
grep -q "^LoadCredential=pgpass:" "$multi/stemd.service.d/postgresql.conf" ||
    { echo "FAIL: the drop-in hands over no pgpass credential"; exit 1; }
echo "systemd-analyze verify stemd.service + postgresql.conf: clean"
