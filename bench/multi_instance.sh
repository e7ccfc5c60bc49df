#!/usr/bin/env bash
# Jobs per minute through stemd: one instance on SQLite, one on PostgreSQL,
# three on one PostgreSQL database.
#
# Starts `stemd simulate` over HTTPS on loopback (a throwaway CA and
# server certificate; small stems, no pacing) and a throwaway PostgreSQL 15
# cluster (initdb as the postgres user when run as root, fsync=off, trust
# for 127.0.0.1), then for each setup: fresh stores, the instances started,
# JOBS jobs of two stems submitted (spread over the instances' APIs, four at
# a time), and the time from the first submission until every job is
# completed. Each instance gets the webhooks of the jobs it submitted (its
# own public_url); any instance could take any, see tests/integration/
# multi_instance_test.cpp. Prints jobs/minute per setup.
#
# Environment: JOBS (60), STEM_BYTES (65536), BUILD_DIR (build-bench),
# SETUPS ("sqlite-1 postgresql-1 postgresql-3"),
# PG_BIN (/usr/lib/postgresql/15/bin), BENCH_TMPDIR (default $TMPDIR or /tmp).

set -euo pipefail

JOBS=${JOBS:-60}
STEM_BYTES=${STEM_BYTES:-65536}
SETUPS=${SETUPS:-sqlite-1 postgresql-1 postgresql-3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_TIMEOUT=300 # seconds for one setup's jobs

die() {
    echo "bench/multi_instance.sh: $*" >&2
    exit 1
}

[[ $JOBS =~ ^[1-9][0-9]{0,3}$ ]] || die "JOBS must be a whole number from 1 to 9999, not \"$JOBS\""
[[ $STEM_BYTES =~ ^[1-9][0-9]*$ ]] || die "STEM_BYTES must be a positive whole number"
[[ -x $PG_BIN/initdb ]] || die "no $PG_BIN/initdb: install postgresql-15 (or set PG_BIN)"
for tool in curl openssl jq; do
    command -v "$tool" >/dev/null || die "$tool is not installed (Debian package: $tool)"
done

if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD_DIR" --target stemd >/dev/null
STEMD=$BUILD_DIR/stemd
[[ -x $STEMD ]] || die "no stemd binary at $STEMD after building"

# ---------------------------------------------------------------------------
# Scratch space, processes and clean-up.

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/stemd-bench-multi.XXXXXX")
chmod 755 "$WORK"
PIDS=()
PG_UP=""

as_postgres() { # initdb and pg_ctl refuse root
    if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() { # PID: SIGTERM, then SIGKILL after 10 s
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop "$pid"; done
    [[ -z $PG_UP ]] || as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
# Certificates, the simulator, PostgreSQL.

dir=$WORK/tls
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=stemd bench CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName = IP:127.0.0.1" "basicConstraints = CA:FALSE" \
    "extendedKeyUsage = serverAuth" >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
CA=$dir/ca.pem

SIM_PORT=$(pick_port)
"$STEMD" simulate --listen "127.0.0.1:$SIM_PORT" \
    --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
    --api-key bench --stem-bytes "$STEM_BYTES" --webhook-delay-ms 100 \
    >"$WORK/simulate.log" 2>&1 &
PIDS+=($!)
wait_for "https://127.0.0.1:$SIM_PORT/healthz" --cacert "$CA" ||
    die "the simulator did not come up: $(tail -5 "$WORK/simulate.log")"

PG_PORT=$(pick_port)
mkdir "$WORK/pg"
((EUID != 0)) || chown postgres "$WORK/pg"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg" -U stemd --auth=trust >"$WORK/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$WORK/initdb.log")"
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -w -l "$WORK/pg/server.log" \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    start >/dev/null || die "PostgreSQL did not start: $(tail -5 "$WORK/pg/server.log")"
PG_UP=1

# ---------------------------------------------------------------------------
# One setup: NAME INSTANCES DATABASE(sqlite|pg).

run_setup() {
    local name=$1 n=$2 kind=$3 run=$WORK/$1 i
    mkdir -p "$run"
    local database="$run/stemd.db"
    if [[ $kind == pg ]]; then
        "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U stemd "bench_$name"
        database="postgresql://stemd@127.0.0.1:$PG_PORT/bench_$name"
    fi
    local apis=() pids=()
    for ((i = 0; i < n; i++)); do
        local hook api
        hook=$(pick_port)
        api=$(pick_port)
        apis+=("$api")
        cat >"$run/stemd-$i.toml" <<EOT
[musicgpt]
base_url = "https://127.0.0.1:$SIM_PORT/api/public"
api_key = "bench"
ca_file = "$CA"
[webhook]
listen = "127.0.0.1:$hook"
public_url = "http://127.0.0.1:$hook"
[api]
listen = "127.0.0.1:$api"
token_file = "$run/api-token"
[storage]
database = "$database"
output_dir = "$run/stems"
[download]
concurrency = 4
ca_file = "$CA"
allow_private_addresses = true
EOT
        chmod 600 "$run/stemd-$i.toml"
        (cd "$run" && exec env -u JOURNAL_STREAM "$STEMD" serve --config "$run/stemd-$i.toml") \
            >"$run/serve-$i.log" 2>&1 &
        pids+=($!)
        PIDS+=($!)
        # One after another: the first makes the schema and the token.
        wait_for "http://127.0.0.1:$api/healthz" ||
            die "$name: instance $i did not come up: $(tail -5 "$run/serve-$i.log")"
    done
    local token
    token=$(<"$run/api-token")

    local start end
    start=$(date +%s%N)
    seq 0 $((JOBS - 1)) | xargs -P 4 -I{} sh -c '
        api=$(echo "$1" | cut -d" " -f$(( $2 % $3 + 1 )))
        curl -fsS -H "Authorization: Bearer $4" -H "Content-Type: application/json" \
          -d "{\"audio_url\":\"https://songs.example/bench-$2.mp3\",\"stems\":[\"vocals\",\"drums\"]}" \
          "http://127.0.0.1:$api/v1/jobs" | jq -r .id' _ "${apis[*]}" {} "$n" "$token" \
        >"$run/ids" || die "$name: a submission failed: $(tail -3 "$run/serve-0.log")"
    (($(wc -l <"$run/ids") == JOBS)) || die "$name: $(wc -l <"$run/ids") of $JOBS jobs accepted"

    local deadline=$((SECONDS + RUN_TIMEOUT)) done_count=0 id status
    local -a pending
    mapfile -t pending <"$run/ids"
    while ((${#pending[@]} > 0)); do
        ((SECONDS < deadline)) || die "$name: ${#pending[@]} jobs not completed in ${RUN_TIMEOUT} s"
        local still=()
        for id in "${pending[@]}"; do
            status=$(curl -fsS -H "Authorization: Bearer $token" \
                "http://127.0.0.1:${apis[0]}/v1/jobs/$id" | jq -r .status)
            case $status in
            completed) done_count=$((done_count + 1)) ;;
            failed) die "$name: job $id failed" ;;
            *) still+=("$id") ;;
            esac
        done
        pending=("${still[@]}")
        ((${#pending[@]} == 0)) || sleep 0.05
    done
    end=$(date +%s%N)
    for i in "${pids[@]}"; do stop "$i"; done
    awk -v name="$name" -v n="$n" -v jobs="$JOBS" -v ns=$((end - start)) 'BEGIN {
        s = ns / 1e9
        printf "%-22s %9d %6d %9.2f %12.0f\n", name, n, jobs, s, jobs / s * 60 }'
}

printf "%-22s %9s %6s %9s %12s\n" setup instances jobs seconds jobs/minute
for setup in $SETUPS; do
    case $setup in
    sqlite-1) run_setup sqlite-1 1 sqlite ;;
    postgresql-1) run_setup postgresql-1 1 pg ;;
    postgresql-3) run_setup postgresql-3 3 pg ;;
    *) die "unknown setup \"$setup\" in SETUPS" ;;
    esac
done
