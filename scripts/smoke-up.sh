#!/usr/bin/env bash
# CI check of the README's run command: `npm start` (= zcp up) must come up
# (the local-mode enclave: the `simulator` feature set that scripts/build.sh
# builds), serve HTTPS with its development certificate, write stack.json,
# serve an attestation that `zcp verify --ca` accepts against the development
# root (with --allow-dev-root; and rejects against the AWS root, and without
# trusting the certificate), come up resumed (the enclave boots halted; zcp up
# resumes it with the development admin key), and stop cleanly on Ctrl-C (SIGINT).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
log=$data/up.log
trap 'kill -INT "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT

# `npm start` = build, then `zcp up`. npm itself always exits 130 on Ctrl-C, so
# the stop is checked on `zcp up`'s own exit code, in its own process group
# (setsid), where SIGINT reaches every process as Ctrl-C would.
bash scripts/build.sh
setsid node host/bin/zcp.mjs up --port 0 --data-dir "$data/stack" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q "Ctrl-C to stop" "$log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "[smoke] zcp up exited early:"; cat "$log"; exit 1; }
  sleep 0.5
done
grep -q "Ctrl-C to stop" "$log" || { echo "[smoke] zcp up did not come up:"; cat "$log"; exit 1; }
cat "$log"
url=$(grep -oE 'https://127\.0\.0\.1:[0-9]+' "$log" | head -n 1)
[ -n "$url" ] || { echo "[smoke] FAIL: no https:// API address in the banner"; exit 1; }
ca=$(awk '$1 == "TLS" && $2 == "cert" { print $3 }' "$log")
[ -f "$ca" ] || { echo "[smoke] FAIL: no development certificate at '$ca'"; exit 1; }
[ -f "$data/stack/stack.json" ] || { echo "[smoke] FAIL: no stack.json"; exit 1; }
grep -q "\"url\": \"$url\"" "$data/stack/stack.json" || { echo "[smoke] FAIL: stack.json does not name $url"; cat "$data/stack/stack.json"; exit 1; }
pcr0=$(awk '$1 == "PCR0" { print $2 }' "$log")
root=$(awk '$1 == "dev" && $2 == "root" { print $3 }' "$log")
config_hash=$(awk '$1 == "config" && $2 == "hash" { print $3 }' "$log")

echo "[smoke] zcp verify against the development root, pinning PCR0 and the configuration hash (must pass)"
node host/bin/zcp.mjs verify --url "$url" --ca "$ca" --pcr0 "$pcr0" --config-hash "$config_hash" --root "$root" --allow-dev-root
echo "[smoke] zcp verify against the AWS root (must fail)"
if node host/bin/zcp.mjs verify --url "$url" --ca "$ca" --pcr0 "$pcr0" >/dev/null 2>&1; then
  echo "[smoke] FAIL: a simulator document verified against the AWS root"; exit 1
fi
echo "[smoke] zcp verify without --ca (must fail: the development certificate is not trusted)"
if node host/bin/zcp.mjs verify --url "$url" --pcr0 "$pcr0" --root "$root" --allow-dev-root 2>"$data/noca.err"; then
  echo "[smoke] FAIL: the API's self-signed certificate was trusted without --ca"; exit 1
fi
grep -q TLS_CERTIFICATE_UNTRUSTED "$data/noca.err" || { echo "[smoke] FAIL: expected TLS_CERTIFICATE_UNTRUSTED"; cat "$data/noca.err"; exit 1; }

echo "[smoke] curl, trusting the development certificate: /healthz, /readyz, /openapi.json, a bad request"
curl -fsS --cacert "$ca" "$url/healthz" | grep -q '"ok"' || { echo "[smoke] FAIL: /healthz"; exit 1; }
curl -fsS --cacert "$ca" "$url/readyz" >/dev/null || { echo "[smoke] FAIL: /readyz"; exit 1; }
curl -fsS --cacert "$ca" "$url/openapi.json" | grep -q '/v1/sign/transaction' || { echo "[smoke] FAIL: /openapi.json"; exit 1; }
status=$(curl -sS -o "$data/bad.json" -w '%{http_code}' --cacert "$ca" -H 'content-type: application/json' -d '{"body":"0xzz"}' "$url/v1/sign/digest")
{ [ "$status" = 400 ] && grep -q '"code":"INVALID_ARGUMENT"' "$data/bad.json"; } || { echo "[smoke] FAIL: bad input gave $status"; cat "$data/bad.json"; exit 1; }

echo "[smoke] the README's client commands: keys generate, sign message --receipt-out, receipt verify"
zcp() { node host/bin/zcp.mjs "$@"; }
keyid=$(zcp keys generate --data-dir "$data/stack" --curve secp256k1 --purpose ethereum --label smoke --json \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).keyId))')
[ -n "$keyid" ] || { echo "[smoke] FAIL: keys generate"; exit 1; }
zcp sign message --data-dir "$data/stack" --key "$keyid" --message hello --receipt-out "$data/r.json"
zcp receipt verify "$data/r.json" --data-dir "$data/stack"

echo "[smoke] the kill switch: the enclave boots halted and zcp up resumed it with the development admin key"
grep -q "came up halted (global Red) and was resumed" "$log" || { echo "[smoke] FAIL: no kill switch line in the banner"; exit 1; }
zcp status --data-dir "$data/stack" --key "$data/stack/admin.key" --json | grep -q '"level": "green"' \
  || { echo "[smoke] FAIL: zcp status does not show the enclave resumed"; exit 1; }

echo "[smoke] Ctrl-C"
kill -INT -- "-$pid"
code=0; wait "$pid" || code=$?
trap 'rm -rf "$data"' EXIT
tail -n 3 "$log"
if [ "$code" -ne 0 ]; then echo "[smoke] FAIL: zcp up exited $code after SIGINT"; exit 1; fi
if pgrep -f "$data/stack" >/dev/null; then echo "[smoke] FAIL: enclave still running"; exit 1; fi
if [ -f "$data/stack/stack.json" ]; then echo "[smoke] FAIL: stack.json left behind after a clean stop"; exit 1; fi
echo "[smoke] local stack: up, verified, stopped cleanly"
