#!/usr/bin/env bash
# Decoding to a waveform: stemd's audio/ next to lame --decode (and mpg123,
# when installed) on the same MP3.
#
# Makes a SECONDS-long 44.1 kHz 16-bit stereo WAV, encodes it to MP3 with
# lame (when installed), then RUNS times decodes each to POINTS buckets with
# a small program linking stemd_audio (bench/waveform_bench.cpp) and prints
# the seconds the decode took and the process's peak resident size (VmHWM).
# The references decode the same MP3 to a WAV file; their peak RSS comes
# from GNU time when it is installed. What is not installed is skipped with
# a line saying so. Everything goes in a temporary directory, removed on exit.
#
# Environment: RUNS (3), SECONDS_LONG (300), POINTS (800), BUILD_DIR
# (build-bench, a Release build), BENCH_TMPDIR (default $TMPDIR or /tmp).

set -euo pipefail

RUNS=${RUNS:-3}
SECONDS_LONG=${SECONDS_LONG:-300}
POINTS=${POINTS:-800}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
STEP_TIMEOUT=300 # seconds for any one decode or encode

die() {
    echo "bench/waveform.sh: $*" >&2
    exit 1
}

[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "RUNS must be a whole number from 1 to 99, not \"$RUNS\""
[[ $SECONDS_LONG =~ ^[1-9][0-9]{0,4}$ ]] || die "SECONDS_LONG must be 1 to 99999"
[[ $POINTS =~ ^[1-9][0-9]{0,3}$ ]] || die "POINTS must be 1 to 9999"

if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD_DIR" --target stemd_audio >/dev/null

work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/stemd-waveform-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

bench="$work/waveform_bench"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
g++ -std=c++20 -O2 -I"$ROOT" "$ROOT/bench/waveform_bench.cpp" -o "$bench" \
    "$BUILD_DIR/audio/libstemd_audio.a" "$BUILD_DIR/common/libstemd_common.a" \
    $(pkg-config --libs libmpg123) -lssl -lcrypto -pthread

timeout "$STEP_TIMEOUT" "$bench" make-wav "$work/song.wav" "$SECONDS_LONG"
echo "input: ${SECONDS_LONG} s of 44.1 kHz 16-bit stereo ($(stat -c %s "$work/song.wav") bytes), $POINTS points, $RUNS runs"
have_mp3=0
if command -v lame >/dev/null; then
    timeout "$STEP_TIMEOUT" lame --quiet -b 192 "$work/song.wav" "$work/song.mp3"
    have_mp3=1
else
    echo "SKIPPED: lame is not installed: no MP3 and no lame --decode reference"
fi

# Seconds and peak RSS (KiB) of a command decoding to a file, through GNU
# time when it is there; "-" for an RSS it cannot measure.
reference() {
    local start end rss=-
    start=$(date +%s%N)
    if [[ -x /usr/bin/time ]]; then
        rss=$(/usr/bin/time -f %M timeout "$STEP_TIMEOUT" "$@" 2>&1 >/dev/null | tail -n 1)
    else
        timeout "$STEP_TIMEOUT" "$@" >/dev/null 2>&1
    fi
    end=$(date +%s%N)
    local ms=$(((end - start) / 1000000))
    printf '%d.%03d %s\n' $((ms / 1000)) $((ms % 1000)) "$rss"
}

printf '%-28s %4s %10s %14s\n' "decoder" "run" "seconds" "peak RSS KiB"
for ((r = 1; r <= RUNS; r++)); do
    read -r took rss _ < <(timeout "$STEP_TIMEOUT" "$bench" decode "$work/song.wav" "$POINTS")
    printf '%-28s %4d %10s %14s\n' "stemd audio/ (WAV)" "$r" "$took" "$rss"
    if ((have_mp3)); then
        read -r took rss _ < <(timeout "$STEP_TIMEOUT" "$bench" decode "$work/song.mp3" "$POINTS")
        printf '%-28s %4d %10s %14s\n' "stemd audio/ (MP3)" "$r" "$took" "$rss"
        read -r took rss < <(reference lame --quiet --decode "$work/song.mp3" "$work/ref.wav")
        printf '%-28s %4d %10s %14s\n' "lame --decode (MP3 -> WAV)" "$r" "$took" "$rss"
        if command -v mpg123 >/dev/null; then
            read -r took rss < <(reference mpg123 -q -w "$work/ref2.wav" "$work/song.mp3")
            printf '%-28s %4d %10s %14s\n' "mpg123 -w (MP3 -> WAV)" "$r" "$took" "$rss"
        fi
    fi
done
command -v mpg123 >/dev/null || echo "SKIPPED: mpg123 (the program) is not installed; apt-get install mpg123 adds it as a second reference"
[[ -x /usr/bin/time ]] || echo "note: GNU time is not installed (apt-get install time): reference RSS shown as -"
