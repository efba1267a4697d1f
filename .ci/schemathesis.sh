#!/usr/bin/env bash
# Fuzzes a running server against the committed spec with schemathesis (all phases, fixed
# seed), then scans every response body it saw for leaked internals.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/debug/vendor-registry
venv=target/schemathesis-venv
[ -x "$venv/bin/schemathesis" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis==4.32.5; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Fuzzed webhooks point anywhere: their events are collected, never sent.
env -u DATABASE_URL RUST_LOG=error VENDOR_REGISTRY_WEBHOOKS_PAUSED=true "$bin" serve --bind "127.0.0.1:$port" --data-dir "$work/data" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
token() { "$bin" token --role "$1" --sub "$2" --ttl 36000 --data-dir "$work/data"; }
admin=$(token admin fuzz); alice=$(token procurement alice); service=$(token service newsletter)
json='Content-Type: application/json'
curl -fsS -X POST "$base/v1/services" -H "Authorization: Bearer $admin" -H "$json" \
  -d '{"key": "newsletter", "name": "Newsletter", "purposes": ["marketing.communications"]}' >/dev/null
party=$(curl -fsS -X POST "$base/v1/parties" -H "Authorization: Bearer $alice" -H "$json" \
  -d '{"kind": "third_party", "legal_name": "Acme", "country": "US", "data_locations": ["US"],
       "privacy_policy_url": "https://acme.example/p", "contact_email": "dpo@acme.example"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -fsS -X POST "$base/v1/parties/$party/grants" -H "Authorization: Bearer $alice" -H "$json" \
  -d '{"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"]}' >/dev/null
run() {
  "$venv/bin/schemathesis" --config-file .ci/schemathesis.toml run openapi/openapi.json --url "$base" \
    --checks all --exclude-checks positive_data_acceptance --seed 20261129 --max-examples 25 \
    --workers 1 --report har --report-har-path "$work/$1.har" --no-color "${@:2}"
}
status=0
run admin -H "Authorization: Bearer $admin" --exclude-path /v1/sharing-requests || status=1
run service -H "Authorization: Bearer $service" --include-path /v1/sharing-requests || status=1
python3 - "$work"/admin.har "$work"/service.har <<'PY' || status=1
import json, re, sys
leak = re.compile(r"diesel|sqlite|postgres|SELECT |INSERT |UPDATE |syntax error|panicked|thread '|\.rs:\d|/src/|/root/|/home/|stack backtrace|RUST_BACKTRACE", re.I)
seen = bad = 0
for path in sys.argv[1:]:
    for entry in json.load(open(path))["log"]["entries"]:
        seen += 1
        text = entry["response"].get("content", {}).get("text") or ""
        if leak.search(text):
            bad += 1
            print("leak:", entry["request"]["method"], entry["request"]["url"], text[:300])
print(f"scanned {seen} responses for leaked internals: {bad} found")
sys.exit(1 if bad else 0)
PY
exit $status
