#!/usr/bin/env bash
# A webhook received and verified by the Standard Webhooks reference library for Python
# (`standardwebhooks`, not this project's code): the signature, the timestamp and the headers;
# and by the README's own recipe, run as the README prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/debug/vendor-registry
venv=target/webhooks-venv
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import standardwebhooks' 2>/dev/null \
  || { python3 -m venv "$venv" && "$venv/bin/pip" install -q standardwebhooks==1.1.0; }
work=$(mktemp -d)
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free); hook_port=$(free)
env -u DATABASE_URL RUST_LOG=error VENDOR_REGISTRY_WEBHOOK_ALLOW_HTTP_LOOPBACK=true \
  VENDOR_REGISTRY_WEBHOOK_POLL_MS=100 "$bin" serve --bind "127.0.0.1:$port" --data-dir "$work/data" \
  > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server $receiver 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
alice=$("$bin" token --role procurement --sub alice --data-dir "$work/data")
json='Content-Type: application/json'
secret=$(curl -fsS -X POST "$base/v1/webhooks" -H "Authorization: Bearer $alice" -H "$json" \
  -d "{\"url\": \"http://127.0.0.1:$hook_port/hook\", \"event_types\": [\"party.created\"]}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
"$venv/bin/python" - "$hook_port" "$secret" "$work/verified" <<'PY' &
import http.server, json, sys
from standardwebhooks.webhooks import Webhook
port, secret, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
readme = open("README.md").read()
exec(readme.split("```python\n", 1)[1].split("```", 1)[0])  # defines verified()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        event = Webhook(secret).verify(body, dict(self.headers))  # raises unless it verifies
        headers = {k.lower(): v for k, v in self.headers.items()}
        assert verified(secret, headers, body), "the README's recipe does not verify"
        assert not verified(secret, headers, body + b" "), "the README's recipe verifies anything"
        self.send_response(204); self.end_headers()
        open(out, "w").write(json.dumps({"id": self.headers["webhook-id"], "event": event}))
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
receiver=$!
sleep 0.5
curl -fsS -X POST "$base/v1/parties" -H "Authorization: Bearer $alice" -H "$json" -d '{"kind": "third_party",
  "legal_name": "Acme", "country": "US", "data_locations": ["US"], "privacy_policy_url": "https://acme.example/p",
  "contact_email": "dpo@acme.example"}' >/dev/null
for _ in $(seq 1 100); do [ -s "$work/verified" ] && break; sleep 0.1; done
python3 - "$work/verified" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
assert v["event"]["type"] == "party.created" and v["event"]["id"] == v["id"], v
print("standardwebhooks verified event", v["id"], v["event"]["type"])
PY
