#!/usr/bin/env bash
# Coverage-guided fuzzing of the Transport's parsers and handshake with SharpFuzz and libFuzzer (fuzz/README.md).
#
#   bash fuzz/fuzz.sh --smoke                 every target for a few seconds (~1 minute in all): the test command's run
#   bash fuzz/fuzz.sh --seconds 1500 [--parallel] [TARGET...]   a long run (--parallel: all targets at once); its
#                                             corpus grows in artifacts/fuzz/corpus/TARGET
#   bash fuzz/fuzz.sh --merge [TARGET...]     minimize seeds + committed corpus + long-run corpus into fuzz/corpus/TARGET
#   bash fuzz/fuzz.sh --replay FILE... --target TARGET   rerun saved inputs through the uninstrumented build
#
# It installs clang and libFuzzer's runtime with apt-get when they are missing, builds the fuzzing program, instruments
# a copy of FlowOrleans.Transport.dll with the sharpfuzz tool and compiles the libFuzzer driver, all under
# artifacts/fuzz/. A crash, hang or invariant violation fails the run and leaves its input in artifacts/fuzz/crashes/.
# FUZZ_NICE (default 0) is the niceness of the fuzzing processes; long runs on a shared machine want 19.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=run
parallel=0
seconds=""
targets=()
replay=()
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) mode=smoke ;;
        --seconds) seconds="$2"; shift ;;
        --merge) mode=merge ;;
        --parallel) parallel=1 ;;
        --replay) mode=replay ;;
        --target) targets+=("$2"); shift ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) if [ "$mode" = replay ]; then replay+=("$1"); else targets+=("$1"); fi ;;
    esac
    shift
done

out="$(pwd)/artifacts/fuzz"
bin="$out/bin"
driver="$out/sharpfuzz-libfuzzer"
plain="fuzz/bin/Release/net10.0/FlowOrleans.Fuzz"
nice_level="${FUZZ_NICE:-0}"
mkdir -p "$out/crashes" "$out/logs"

# clang with libFuzzer's runtime (Debian: clang, libclang-rt-dev).
if ! command -v clang >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "Installing clang and libFuzzer (apt-get install clang libclang-rt-dev) for the fuzzing run..."
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang libclang-rt-dev >/dev/null
fi

dotnet build fuzz/Fuzz.csproj -c Release -warnaserror -nologo -v q

if [ "$mode" = replay ]; then
    exec "$plain" "${targets[0]:?--target TARGET is required}" "${replay[@]}"
fi

# The seeds must still do what they are for (the valid handshakes complete), or fuzzing would explore only failures.
"$plain" --self-test > "$out/logs/self-test.txt" 2>&1 || { cat "$out/logs/self-test.txt"; echo "fuzz: self-test FAILED"; exit 1; }

# Instrument a copy: the instrumented Transport only runs under the driver (it writes coverage to shared memory).
rm -rf "$bin"
cp -r "fuzz/bin/Release/net10.0" "$bin"
(cd fuzz && dotnet tool restore >/dev/null && dotnet tool run sharpfuzz "$bin/FlowOrleans.Transport.dll")
clang -O2 -Wall -Wextra -Werror -fsanitize=fuzzer fuzz/driver/sharpfuzz_libfuzzer_driver.c -o "$driver"

# Every target with its -max_len, as the program lists them.
declare -A max_len
all=()
while read -r name len; do
    max_len[$name]=$len
    all+=("$name")
done < <("$plain" --list)
if [ ${#targets[@]} -eq 0 ]; then targets=("${all[@]}"); fi

if [ "$mode" = smoke ]; then seconds="${seconds:-11}"; fi
seconds="${seconds:-60}"

# Runs one target; new inputs go to the first corpus folder given.
fuzz_target() {
    local target="$1"; shift
    # A managed heap limit turns an unbounded allocation into an OutOfMemoryException, which is reported as a crash.
    DOTNET_GCHeapHardLimit=0x40000000 nice -n "$nice_level" "$driver" \
        -max_len="${max_len[$target]}" -timeout=60 -rss_limit_mb=4096 -report_slow_units=30 -print_final_stats=1 \
        -artifact_prefix="$out/crashes/$target-" "$@" \
        --target="$bin/FlowOrleans.Fuzz" --target-arg="$target"
}

if [ "$mode" = merge ]; then
    for target in "${targets[@]}"; do
        merged="$out/merge/$target"
        rm -rf "$merged"; mkdir -p "$merged" "fuzz/corpus/$target" "$out/corpus/$target"
        fuzz_target "$target" -merge=1 "$merged" "fuzz/seeds/$target" "fuzz/corpus/$target" "$out/corpus/$target" \
            > "$out/logs/$target-merge.txt" 2>&1
        # The named seeds stay in fuzz/seeds; keep only what they do not already hold, at most 300 of the smallest.
        for seed in "fuzz/seeds/$target"/*; do rm -f "$merged/$(sha1sum "$seed" | cut -d' ' -f1)"; done
        rm -f "fuzz/corpus/$target"/*
        ls -S -r "$merged" | head -n 300 | while read -r f; do cp "$merged/$f" "fuzz/corpus/$target/"; done
        echo "fuzz merge $target: $(ls "fuzz/corpus/$target" | wc -l) inputs kept in fuzz/corpus/$target"
    done
    exit 0
fi

# Runs one target for $seconds and prints one summary line (or the failure); new inputs go to its corpus folder.
run_target() {
    local target="$1"
    local corpus="$out/corpus/$target"
    local log="$out/logs/$target.txt"
    if [ "$mode" = smoke ]; then rm -rf "$corpus"; fi
    mkdir -p "$corpus" "fuzz/corpus/$target"
    local rc=0
    fuzz_target "$target" -max_total_time="$seconds" "$corpus" "fuzz/seeds/$target" "fuzz/corpus/$target" > "$log" 2>&1 || rc=$?
    local runs speed last features corp
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    features=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo 0)
    corp=$(echo "$last" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*' || echo 0)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz $target: ${seconds}s, $runs runs, $speed exec/s, $features features, corpus $corp"
        return 0
    fi
    grep -v '^0x' "$log" | tail -n 40
    echo "fuzz $target: FAILED (exit $rc); reproducer: $(ls -t "$out/crashes/$target-"* 2>/dev/null | head -n 1)"
    echo "  rerun it with: bash fuzz/fuzz.sh --replay FILE --target $target"
    return 1
}

status=0
if [ "$parallel" -eq 1 ]; then
    pids=()
    for target in "${targets[@]}"; do
        run_target "$target" > "$out/logs/$target-summary.txt" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || status=1
        cat "$out/logs/${targets[$i]}-summary.txt"
    done
else
    for target in "${targets[@]}"; do
        run_target "$target" || status=1
    done
fi
exit $status
