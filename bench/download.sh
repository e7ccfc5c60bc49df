#!/usr/bin/env bash
# Downloading one large stem: stemd next to curl.
#
# Starts `stemd simulate` over HTTPS on loopback (a throwaway CA and server
# certificate), then R times:
#   stemd - a fresh `stemd serve` downloads one stem of STEM_BYTES; the time is
#           the span between its "downloading" and "saved" log lines (connect,
#           TLS, transfer, SHA-256, fsync, rename, database update); the peak
#           memory is VmHWM of the serve process, VmRSS before the job the
#           baseline.
#   curl  - fetches the same link from the same simulator; the time is curl's
#           own time_total, the peak memory GNU time's "Maximum resident set
#           size". Its file is checked against the SHA-256 stemd recorded.
#   curl+fsync - the curl time plus an fsync of its file, since stemd does not
#           report a file saved before it is on disk.
# Everything runs on 127.0.0.1 and is removed on exit.
#
# Environment: RUNS (3), STEM_BYTES (209715200), BUILD_DIR (build-bench),
# BENCH_TMPDIR (where the temporary directory goes; default $TMPDIR or /tmp).

set -euo pipefail

RUNS=${RUNS:-3}
STEM_BYTES=${STEM_BYTES:-209715200}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
JOB_TIMEOUT=600 # seconds for one job, end to end

die() {
    echo "bench/download.sh: $*" >&2
    exit 1
}

[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "RUNS must be a whole number from 1 to 99, not \"$RUNS\""
[[ $STEM_BYTES =~ ^[1-9][0-9]*$ ]] || die "STEM_BYTES must be a positive whole number"

# ---------------------------------------------------------------------------
# Tools.

need_packages=()
command -v curl >/dev/null || need_packages+=(curl)
command -v openssl >/dev/null || need_packages+=(openssl)
command -v jq >/dev/null || need_packages+=(jq)
[[ -x /usr/bin/time ]] || need_packages+=(time)
command -v sha256sum >/dev/null || need_packages+=(coreutils)
if ((${#need_packages[@]} > 0)); then
    echo "installing ${need_packages[*]}" >&2
    sudo_cmd=()
    ((EUID == 0)) || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need_packages[@]}"
fi

if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
[[ $build_type == Release ]] ||
    die "$BUILD_DIR is a \"$build_type\" build; use a Release build directory (BUILD_DIR=...)"
cmake --build "$BUILD_DIR" --target stemd >/dev/null
STEMD=$(find "$BUILD_DIR" -name stemd -type f -perm -u+x -print -quit)
[[ -n $STEMD ]] || die "no stemd binary under $BUILD_DIR after building"

# ---------------------------------------------------------------------------
# Scratch space and clean-up.

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/stemd-bench.XXXXXX")
SIM_PID=""
SERVE_PID=""

stop() { # PID: SIGTERM, then SIGKILL after 10 s
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop "$SERVE_PID"
    stop "$SIM_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports nobody listens on (from /proc, so no extra tools are needed).
used_ports() {
    local hex
    for hex in $(awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 \
        2>/dev/null | sort -u); do
        echo $((16#$hex))
    done
}
taken=" $(used_ports | tr '\n' ' ') "
pick_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        if [[ $taken != *" $p "* ]]; then
            taken+="$p "
            echo "$p"
            return
        fi
    done
}
SIM_PORT=$(pick_port)
HOOK_PORT=$(pick_port)
API_PORT=$(pick_port)

wait_for() { # URL [curl options...]: up to 20 s for a 200
    local url=$1 i
    shift
    for ((i = 0; i < 200; i++)); do
        curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------
# A throwaway CA and a certificate for 127.0.0.1 signed by it.

make_certificates() {
    local dir=$WORK/tls
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=stemd bench CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf '%s\n' "subjectAltName = IP:127.0.0.1, DNS:localhost" \
        "basicConstraints = CA:FALSE" "extendedKeyUsage = serverAuth" >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}
make_certificates
CA=$WORK/tls/ca.pem

# ---------------------------------------------------------------------------
# The simulator (one for all runs) and the serve configuration.

"$STEMD" simulate --listen "127.0.0.1:$SIM_PORT" \
    --tls-cert "$WORK/tls/server.pem" --tls-key "$WORK/tls/server.key" \
    --api-key bench --stem-bytes "$STEM_BYTES" --webhook-delay-ms 100 \
    >"$WORK/simulate.log" 2>&1 &
SIM_PID=$!
wait_for "https://127.0.0.1:$SIM_PORT/healthz" --cacert "$CA" ||
    die "the simulator did not come up: $(tail -5 "$WORK/simulate.log")"

mkdir -p "$WORK/var"
cat >"$WORK/stemd.toml" <<EOF
[musicgpt]
base_url = "https://127.0.0.1:$SIM_PORT/api/public"
api_key = "bench"
ca_file = "$CA"
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
concurrency = 1
ca_file = "$CA"
allow_private_addresses = true
max_bytes = $((STEM_BYTES * 2))
EOF
chmod 600 "$WORK/stemd.toml"

# ---------------------------------------------------------------------------
# Helpers for the figures.

cpu_ticks() { # PID -> user + system clock ticks so far
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
TICKS=$(getconf CLK_TCK)

proc_kib() { # PID FIELD -> kB value of FIELD in /proc/PID/status
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

epoch_ms() { # RFC 3339 UTC with milliseconds -> ms since the epoch
    local t=$1
    echo $(($(date -u -d "${t%.*}Z" +%s) * 1000 + 10#$(sed 's/.*\.\([0-9]*\)Z$/\1/' <<<"$t")))
}

log_time() { # LOG JOB PATTERN -> timestamp of the first matching line
    awk -v job="job=$2" -v pat="$3" '$3 == job && index($0, pat) { print $1; exit }' "$1"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }'; }

results=() # "tool run seconds peak_kib baseline_kib|- process_seconds|- cpu_seconds|-"

# ---------------------------------------------------------------------------
# One run of each.

run_stemd() { # RUN -> sets TASK_ID, SHA256
    local run=$1 log=$WORK/serve-$1.log json=$WORK/job-$1.json
    # Not under journald: the log lines must carry their timestamps.
    env -u JOURNAL_STREAM "$STEMD" serve --config "$WORK/stemd.toml" >"$log" 2>&1 &
    SERVE_PID=$!
    wait_for "http://127.0.0.1:$API_PORT/healthz" ||
        die "stemd serve did not come up: $(tail -5 "$log")"
    local baseline cpu0
    baseline=$(proc_kib "$SERVE_PID" VmRSS)
    cpu0=$(cpu_ticks "$SERVE_PID")

    "$STEMD" submit --api "http://127.0.0.1:$API_PORT" --token-file "$WORK/var/api-token" \
        --url https://example.com/x.mp3 \
        --stems vocals --wait --timeout "$JOB_TIMEOUT" --json >"$json" ||
        die "the job failed: $(cat "$json") $(tail -5 "$log")"
    local peak cpu
    peak=$(proc_kib "$SERVE_PID" VmHWM)
    cpu=$(awk -v t=$(($(cpu_ticks "$SERVE_PID") - cpu0)) -v hz="$TICKS" \
        'BEGIN { printf "%.2f", t / hz }')
    stop "$SERVE_PID"
    SERVE_PID=""

    local id path bytes started saved
    id=$(jq -r .id "$json")
    TASK_ID=$(jq -r .task_id "$json")
    SHA256=$(jq -r '.files[0].sha256' "$json")
    path=$(jq -r '.files[0].path' "$json")
    bytes=$(jq -r '.files[0].bytes' "$json")
    ((bytes == STEM_BYTES)) || die "stemd saved $bytes bytes, expected $STEM_BYTES"
    started=$(log_time "$log" "$id" "downloading vocals")
    saved=$(log_time "$log" "$id" "saved ")
    [[ -n $started && -n $saved ]] || die "no downloading/saved lines in $log"
    local ms=$(($(epoch_ms "$saved") - $(epoch_ms "$started")))
    [[ $(sha256sum "$path" | cut -d' ' -f1) == "$SHA256" ]] ||
        die "the file stemd saved does not match the SHA-256 it recorded"
    rm -f "$path"
    local secs
    secs=$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')
    results+=("stemd $run $secs $peak $baseline - $cpu")
    echo "run $run/$RUNS: stemd ${secs} s" >&2
}

run_curl() { # RUN TASK_ID SHA256
    local run=$1 out=$WORK/curl.wav times=$WORK/curl-time-$1.txt
    local url="https://127.0.0.1:$SIM_PORT/files/$2/vocals.wav"
    local total
    total=$(/usr/bin/time -v -o "$times" curl -sS --cacert "$CA" -o "$out" \
        -w '%{time_total}' "$url") || die "curl could not fetch $url"
    local peak
    peak=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$times")
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23" -> seconds
    local cpu wall
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$times")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$times")
    local t0 t1
    t0=$(date +%s%N)
    sync "$out" # fsync of this one file (coreutils >= 8.24)
    t1=$(date +%s%N)
    [[ $(sha256sum "$out" | cut -d' ' -f1) == "$3" ]] ||
        die "curl's file does not match the SHA-256 stemd recorded"
    rm -f "$out"
    results+=("curl $run $(printf '%.3f' "$total") $peak - $wall $cpu")
    echo "run $run/$RUNS: curl ${total} s" >&2
    results+=("curl+fsync $run $(awk -v c="$total" -v n=$((t1 - t0)) \
        'BEGIN { printf "%.3f", c + n / 1e9 }') $peak - - -")
}

for ((run = 1; run <= RUNS; run++)); do
    sync # nothing left over from the previous run to write back
    run_stemd "$run"
    sync
    run_curl "$run" "$TASK_ID" "$SHA256"
done

# ---------------------------------------------------------------------------
# The table.

echo "stemd $("$STEMD" --version | awk '{ print $2 }') (Release), $STEM_BYTES bytes over HTTPS on" \
    "127.0.0.1, $RUNS runs; $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' \
        /proc/cpuinfo)"
echo "seconds: stemd from its downloading/saved log lines, curl its time_total; MB/s = 10^6 B/s"
echo "peak RSS: stemd VmHWM, curl GNU time's maximum; process s: curl's whole run (GNU time);"
echo "CPU s: user + system time, for stemd of the serve process during the job"
echo
row() { printf '%-11s %6s %8s %7s %13s %17s %10s %6s\n' "$@"; }
row tool run seconds MB/s "peak RSS MiB" "baseline RSS MiB" "process s" "CPU s"
for r in "${results[@]}"; do
    read -r tool run secs peak base wall cpu <<<"$r"
    row "$tool" "$run" "$secs" "$(rate "$STEM_BYTES" "$secs")" "$(mib "$peak")" \
        "$([[ $base == - ]] && echo - || mib "$base")" "$wall" "$cpu"
done
echo
field() { printf '%s\n' "${results[@]}" | awk -v t="$1" -v c="$2" '$1 == t { print $c }'; }
median() { # numbers on stdin ("-" ignored) -> their median, or "-"
    grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "-"
        else if (NR % 2) print v[(NR + 1) / 2]
        else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for tool in stemd curl curl+fsync; do
    secs=$(field "$tool" 3 | median)
    peak=$(field "$tool" 4 | median)
    row "$tool" median "$(printf '%.3f' "$secs")" "$(rate "$STEM_BYTES" "$secs")" "$(mib "$peak")" \
        "" "" "$(field "$tool" 7 | median)"
done
