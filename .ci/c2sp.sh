#!/usr/bin/env bash
# An implementation we did not write checks our C2SP checkpoint, a witness's cosignature of it, an
# inclusion proof and a proof built from the served tlog tiles: Go's golang.org/x/mod/sumdb/note
# and sumdb/tlog (Debian's golang-golang-x-mod-dev) and crypto/ed25519, run against a real
# `vendor-registry serve` and a real `vendor-registry audit witness`. A note altered by one
# byte must fail.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb/note ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-golang-x-mod-dev
fi
cargo build -q --locked
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u DATABASE_URL target/debug/vendor-registry serve --bind "127.0.0.1:$port" --data-dir "$work/data" \
  > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.2
done
token=$(target/debug/vendor-registry token --role auditor --sub c2sp --data-dir "$work/data")
api() { curl -sf -H "Authorization: Bearer $token" "$@"; }
vkey=$(curl -sf "http://127.0.0.1:$port/v1/audit/public-key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["note_verifier"])')
# A witness of the auditor's own cosigns the checkpoint (its state kept apart from the service's),
# then again once the log has grown past a full tile: the second round checks a consistency proof.
wkey=$(target/debug/vendor-registry audit witness --show-key --state-dir "$work/witness" --name auditor.example/w1)
witness() {
  target/debug/vendor-registry audit witness --url "http://127.0.0.1:$port" --token "$token" \
    --log-key "$vkey" --state-dir "$work/witness" --name auditor.example/w1 > /dev/null
}
witness
admin=$(target/debug/vendor-registry token --role admin --sub c2sp-admin --data-dir "$work/data")
for i in $(seq 1 150); do
  curl -sf -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"key\": \"svc-$i\", \"name\": \"Service $i\", \"purposes\": [\"marketing\"]}" \
    "http://127.0.0.1:$port/v1/services"
done
witness
api -H 'Accept: text/plain' "http://127.0.0.1:$port/v1/audit/checkpoint" > "$work/checkpoint.note"
api "http://127.0.0.1:$port/v1/audit/proof/5" > "$work/proof.json"
export TILES_URL="http://127.0.0.1:$port/v1/audit/tile/" TOKEN="$token"
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache"
go build -o "$work/verify" .ci/c2sp/verify.go
"$work/verify" "$vkey" "$wkey" "$work/checkpoint.note" "$work/proof.json"
# One byte of the size changed: the signature must no longer verify.
sed '2s/.$/X/' "$work/checkpoint.note" > "$work/forged.note"
if "$work/verify" "$vkey" "$wkey" "$work/forged.note" "$work/proof.json" 2>/dev/null; then
  echo "FAIL: a forged checkpoint verified"; exit 1
fi
echo "ok: a forged checkpoint is refused"
