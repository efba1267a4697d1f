#!/usr/bin/env bash
# Start-up time and resident memory of the service with 1,000,000 grants (SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p vendor-registry
bin=target/release/vendor-registry
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" migrate --data-dir "$work/data" 2>/dev/null
python3 bench/fill_register.py "$work/data/registry.db"
start=$(date +%s.%N)
RUST_LOG=warn "$bin" serve --bind 127.0.0.1:18300 --data-dir "$work/data" > "$work/server.log" 2>&1 &
server=$!
until curl -sf 127.0.0.1:18300/readyz >/dev/null; do sleep 0.05; done
end=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
peak=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
printf '{"grants": 1000000, "startup_s": %.2f, "rss_kib": %s, "peak_rss_kib": %s}\n' "$(echo "$end - $start" | bc)" "$rss" "$peak"
