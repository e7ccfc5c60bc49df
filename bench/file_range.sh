#!/usr/bin/env bash
# Serving one large stem: stemd's GET /v1/jobs/{key}/files/{file} next to
# nginx serving the same file (when nginx is installed).
#
# Starts `stemd simulate` (HTTPS on loopback, a throwaway CA) and `stemd
# serve`, lets one job of STEM_BYTES complete, then fetches its stem with
# curl from stemd's API: whole, the second half (Range: bytes=N-) and the
# last MiB (Range: bytes=-1048576), RUNS times each; the same three from
# nginx when it is installed. Prints MB/s (10^6 B/s) per fetch, from curl's
# speed_download, and checks each whole body against the recorded SHA-256.
# Everything runs on 127.0.0.1 and is removed on exit.
#
# Environment: RUNS (3), STEM_BYTES (209715200), BUILD_DIR (build-bench,
# configured as Release when new), BENCH_TMPDIR (default $TMPDIR or /tmp).

set -euo pipefail

RUNS=${RUNS:-3}
STEM_BYTES=${STEM_BYTES:-209715200}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}

die() {
    echo "bench/file_range.sh: $*" >&2
    exit 1
}
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "RUNS must be a whole number from 1 to 99, not \"$RUNS\""
[[ $STEM_BYTES =~ ^[1-9][0-9]*$ ]] && ((STEM_BYTES > 2097152)) ||
    die "STEM_BYTES must be a whole number above 2097152"
for tool in curl openssl jq sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
done

[[ -f $BUILD_DIR/CMakeCache.txt ]] ||
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" --target stemd >/dev/null
STEMD=$(find "$BUILD_DIR" -name stemd -type f -perm -u+x -print -quit)
[[ -n $STEMD ]] || die "no stemd binary under $BUILD_DIR after building"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/stemd-bench.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pick_port() { # a free loopback port, asked of the kernel
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() { # URL [curl options...]: up to 20 s for a 200
    local url=$1 i
    shift
    for ((i = 0; i < 200; i++)); do
        curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
SIM_PORT=$(pick_port)
HOOK_PORT=$(pick_port)
API_PORT=$(pick_port)
NGINX_PORT=$(pick_port)

# A throwaway CA and a certificate for 127.0.0.1.
T=$WORK/tls
mkdir -p "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=stemd bench CA" -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >"$T/server.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -extfile "$T/server.ext" -out "$T/server.pem" 2>/dev/null

"$STEMD" simulate --listen "127.0.0.1:$SIM_PORT" --tls-cert "$T/server.pem" \
    --tls-key "$T/server.key" --api-key bench --stem-bytes "$STEM_BYTES" \
    --webhook-delay-ms 100 >"$WORK/simulate.log" 2>&1 &
PIDS+=($!)
wait_for "https://127.0.0.1:$SIM_PORT/healthz" --cacert "$T/ca.pem" ||
    die "the simulator did not come up: $(tail -5 "$WORK/simulate.log")"

mkdir -p "$WORK/var"
cat >"$WORK/stemd.toml" <<EOF
[musicgpt]
base_url = "https://127.0.0.1:$SIM_PORT/api/public"
api_key = "bench"
ca_file = "$T/ca.pem"
[webhook]
listen = "127.0.0.1:$HOOK_PORT"
public_url = "http://127.0.0.1:$HOOK_PORT"
secret = "$(openssl rand -hex 16)"
[api]
listen = "127.0.0.1:$API_PORT"
[storage]
database = "$WORK/var/stemd.db"
output_dir = "$WORK/var/stems"
[download]
ca_file = "$T/ca.pem"
allow_private_addresses = true
max_bytes = $((STEM_BYTES * 2))
EOF
chmod 600 "$WORK/stemd.toml"
"$STEMD" serve --config "$WORK/stemd.toml" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$API_PORT/healthz" ||
    die "stemd serve did not come up: $(tail -5 "$WORK/serve.log")"
"$STEMD" submit --api "http://127.0.0.1:$API_PORT" --token-file "$WORK/var/api-token" \
    --url https://example.com/x.mp3 --stems vocals --wait --timeout 600 --json >"$WORK/job.json" ||
    die "the job failed: $(cat "$WORK/job.json") $(tail -5 "$WORK/serve.log")"
AUTH="Authorization: Bearer $(cat "$WORK/var/api-token")"
curl -fsS -H "$AUTH" -o "$WORK/job.json" \
    "http://127.0.0.1:$API_PORT/v1/jobs/$(jq -rs "last | .id" "$WORK/job.json")" || die "cannot read the job"
HREF=$(jq -r '.files[0].href' "$WORK/job.json")
SHA256=$(jq -r '.files[0].sha256' "$WORK/job.json")
FILE=$(jq -r '.files[0].path' "$WORK/job.json")

fetch() { # TOOL URL RANGE|"" [curl options...]: prints one row
    local tool=$1 url=$2 range=$3 out=$WORK/fetched
    shift 3
    local ranged=() run
    [[ -z $range ]] || ranged=(-H "Range: bytes=$range")
    for ((run = 1; run <= RUNS; run++)); do
        read -r code bytes speed < <(curl -sS --max-time 300 "$@" "${ranged[@]}" -o "$out" \
            -w '%{http_code} %{size_download} %{speed_download}\n' "$url") ||
            die "curl could not fetch $url"
        [[ -n $range || $(sha256sum "$out" | cut -d' ' -f1) == "$SHA256" ]] ||
            die "$tool served a body that does not match the recorded SHA-256"
        printf '%-6s %-18s %4s %12s %9s\n' "$tool" "${range:-whole}" "$code" "$bytes" \
            "$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }')"
    done
    rm -f "$out"
}

echo "stemd $("$STEMD" --version | awk '{ print $2 }') ($BUILD_TYPE), one stem of $STEM_BYTES bytes" \
    "over HTTP on 127.0.0.1, $RUNS runs each; $(nproc) CPUs; MB/s = 10^6 B/s (curl speed_download)"
printf '%-6s %-18s %4s %12s %9s\n' tool range code bytes MB/s
half=$((STEM_BYTES / 2))
for range in "" "$half-" "-1048576"; do
    fetch stemd "http://127.0.0.1:$API_PORT$HREF" "$range" -H "$AUTH"
done

if ! command -v nginx >/dev/null; then
    echo "nginx: not installed, skipped (apt-get install nginx-light to compare)"
    exit 0
fi
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
user $(id -un); # as root, workers would be nobody, who cannot read the private work folder
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    sendfile on;
    server { listen 127.0.0.1:$NGINX_PORT; root $(dirname "$FILE"); }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx/start.log" &
PIDS+=($!)
NGINX_URL="http://127.0.0.1:$NGINX_PORT/$(basename "$FILE")"
wait_for "$NGINX_URL" -r 0-0 || die "nginx did not come up: $(cat "$WORK/nginx/start.log" "$WORK/nginx/error.log" 2>/dev/null)"
for range in "" "$half-" "-1048576"; do
    fetch nginx "$NGINX_URL" "$range"
done
