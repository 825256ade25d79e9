#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ briefly (FUZZ_SECONDS each, default 20).
# Needs a nightly toolchain and cargo-fuzz; without them it prints why and
# skips (CI does not install nightly). A crash fails the run.
#
# The long runs reported in the README use the same script:
#   FUZZ_SECONDS=900 FUZZ_RUNS=10000000 nice -n 10 bash scripts/fuzz-smoke.sh
# New inputs go to a scratch corpus (FUZZ_WORK, default target/fuzz-corpus);
# fuzz/corpus/ holds the small committed seeds and is only read.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
runs=${FUZZ_RUNS:--1}
work=${FUZZ_WORK:-$PWD/target/fuzz-corpus}
targets=${FUZZ_TARGETS:-path textop_json utf16_changes protocol_client protocol_server changeset rows token}

if ! command -v rustup >/dev/null 2>&1 || ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz smoke: skipped (no nightly toolchain; install with 'rustup toolchain add nightly')"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz smoke: skipped (cargo-fuzz missing; install with 'cargo install cargo-fuzz')"
  exit 0
fi

passed=0
for target in $targets; do
  features=()
  [ "$target" = token ] && features=(--features token)
  mkdir -p "$work/$target"
  log="$work/$target.log"
  status=0
  (cd fuzz && cargo +nightly fuzz run "${features[@]}" "$target" "$work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -runs="$runs" -max_len=4096 -print_final_stats=1) >"$log" 2>&1 || status=$?
  # (No match, e.g. when the target failed to build, must not end the
  # script silently under `set -e`: the failure is reported below.)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1 || true)
  if [ "$status" -ne 0 ]; then
    echo "fuzz $target: FAILED after ${execs:-?} executions (see $log and fuzz/artifacts/$target)"
    tail -40 "$log"
    echo "fuzz smoke: $passed passed, 1 failed"
    exit 1
  fi
  echo "fuzz $target: ok, ${execs:-?} executions in ${secs:-?} s, no findings"
  passed=$((passed + 1))
done
echo "fuzz smoke: $passed passed, 0 failed"
