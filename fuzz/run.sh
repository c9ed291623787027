#!/usr/bin/env bash
# Runs every fuzz target for RUNS executions (default 1 000 000) from the
# seed corpus, with debug assertions (overflow checks) on, and prints one
# summary line per target. Needs `cargo install cargo-fuzz` (works on the
# stable toolchain with the `none` sanitizer).
#   bash fuzz/run.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
runs="${1:-1000000}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ids config platform_body a2a_reply retry_after stream message resume)
cargo fuzz build -s none -a >/dev/null 2>&1 || cargo fuzz build -s none -a
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  start=$(date +%s)
  log="$(mktemp)"
  if cargo fuzz run -s none -a "$t" "corpus/$t" "seeds/$t" -- -runs="$runs" -print_final_stats=1 >"$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'DONE *cov: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "$t: $execs executions in $(( $(date +%s) - start )) s, coverage $cov edges, corpus $(ls "corpus/$t" | wc -l) inputs, no finding"
  else
    echo "$t: FINDING (log: $log)"; grep -m3 -A3 'panicked' "$log" || tail -20 "$log"; exit 1
  fi
  rm -f "$log"
done
