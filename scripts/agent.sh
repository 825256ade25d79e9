#!/usr/bin/env bash
# The container agent's checks beyond `cargo test` (whose agent_* tests run in
# the workspace step): the binary's --help, and a small run of agent-bench
# (hydration checked byte for byte against the same files extracted by tar,
# and keystrokes reaching the disk). Needs `tar` and `sync` (coreutils).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo run --locked -q -p velocity-sync-agent --bin velocity-sync-agent -- --help \
  | grep -q -- "--root" || { echo "agent: --help does not list --root"; exit 1; }
cargo run --locked -q -p velocity-sync-tools --bin agent-bench -- \
  --files 300 --runs 1 --keystrokes 20
echo "agent checks passed"
