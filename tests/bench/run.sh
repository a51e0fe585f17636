#!/usr/bin/env bash
# sqin's HTTP benchmark: builds the release binary, starts it on 127.0.0.1
# with a fresh database, and loads each endpoint with wrk using the same
# settings as ../shared/peer-bench/run.sh (panva's oidc-provider), so the two
# can be run one right after the other on the same machine and compared.
#
# Usage: tests/bench/run.sh
# Env:   DURATION=20 CONC=32 WARMUP=5 PORT=8088 PIN=1 BACKEND=sqlite|postgres
#        PIN=1 puts sqin on CPU 1 and wrk on CPU 0 (one core for the server,
#        as the single-threaded Node peer has); PIN=0 lets sqin use both.
#        SQIN_BENCH_PG=postgres://postgres@127.0.0.1:5432/test for BACKEND=postgres.
# Needs: wrk, curl, python3 (for JSON), cargo.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/bench"
DURATION=${DURATION:-20}; CONC=${CONC:-32}; WARMUP=${WARMUP:-5}; PORT=${PORT:-8088}; PIN=${PIN:-1}
BACKEND=${BACKEND:-sqlite}
BASE="http://127.0.0.1:${PORT}"
work=$(mktemp -d "${TMPDIR:-/tmp}/sqin-bench.XXXXXX")
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then SRV="taskset -c 1"; LOAD="taskset -c 0"; else SRV=""; LOAD=""; fi

(cd "$root" && cargo build --release --bin sqin >/dev/null && cargo build -p sqin-tests --bin bench-seed >/dev/null)
SEED="$root/target/debug/bench-seed"
SQIN="$root/target/release/sqin"
export SQIN_DATA_DIR="$work/var" SQIN_LISTEN="127.0.0.1:${PORT}" SQIN_ISSUER="http://localhost:${PORT}" SQIN_LOG_LEVEL=warn
if [ "$BACKEND" = postgres ]; then
  pg=${SQIN_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
  schema="bench_$$"
  psql "$pg" -qc "CREATE SCHEMA $schema" >/dev/null
  export SQIN_DATABASE_URL="${pg}?options=-c%20search_path%3D${schema}"
else
  export SQIN_DATABASE_URL="sqlite://$work/bench.db?mode=rwc"
fi

PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" 2>/dev/null || true; fi
  [ "$BACKEND" = postgres ] && psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
"$SQIN" migrate 2>/dev/null
client=$("$SQIN" client add --name bench --redirect-uri http://127.0.0.1:9/cb --scope "openid profile offline_access")
CID=$(json "['client_id']" <<<"$client"); SECRET=$(json "['client_secret']" <<<"$client")
BASIC=$(printf '%s:%s' "$CID" "$SECRET" | base64 -w0)

$SRV "$SQIN" serve > "$work/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

cat > "$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body   = "grant_type=client_credentials"
wrk.headers["Content-Type"]  = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
LUA
run() {
  local name=$1 url=$2; shift 2
  $LOAD wrk -t1 -c"$CONC" -d"${WARMUP}s" "$@" "$url" > /dev/null
  local out; out=$($LOAD wrk -t1 -c"$CONC" -d"${DURATION}s" --latency "$@" "$url")
  printf 'RESULT sqin-%-8s %-22s rps=%-10s p50=%-9s p99=%-9s non2xx=%s\n' "$BACKEND" "$name" \
    "$(awk '/Requests\/sec/{print $2}' <<<"$out")" "$(awk '/^ +50%/{print $2}' <<<"$out")" \
    "$(awk '/^ +99%/{print $2}' <<<"$out")" "$( (awk '/Non-2xx/{print $NF}' <<<"$out"; echo 0) | head -1)"
}

echo "# sqin $("$SQIN" --version | awk '{print $2}'), backend=$BACKEND, pin=$PIN, wrk -t1 -c$CONC -d${DURATION}s"
run "token-cc-jwt" "$BASE/token" -s "$work/token.lua"
run "discovery" "$BASE/.well-known/openid-configuration"
run "jwks" "$BASE/jwks"
TOK=$(curl -s -u "$CID:$SECRET" -d 'grant_type=client_credentials' "$BASE/token" | json "['access_token']")
cat > "$work/introspect.lua" <<LUA
wrk.method = "POST"
wrk.body   = "token=$TOK"
wrk.headers["Content-Type"]  = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
LUA
run "introspect-jwt" "$BASE/introspect" -s "$work/introspect.lua"

# Flows wrk cannot make by itself: single-use codes and refresh tokens, seeded
# through the real authorization and token code paths by a test tool.
CODES=${CODES:-20000}; REFRESH=${REFRESH:-20000}
"$SEED" "$CID" "$SECRET" http://127.0.0.1:9/cb "$work" "$CODES" "$REFRESH"
cat > "$work/list.lua" <<'LUA'
-- POSTs one line of a file per request (each code or refresh token once).
local items, i = {}, 0
for line in io.lines(os.getenv("LIST")) do items[#items + 1] = line end
local template = os.getenv("BODY")
request = function()
  i = i + 1
  local item = items[i] or "exhausted"
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("BASIC"),
  }, string.format(template, item))
end
LUA
# No warm-up for single-use items: every request must get a fresh one.
run_once() {
  local name=$1 url=$2; shift 2
  local out; out=$($LOAD wrk -t1 -c"$CONC" -d"${SHORT:-5}s" --latency "$@" "$url")
  printf 'RESULT sqin-%-8s %-22s rps=%-10s p50=%-9s p99=%-9s non2xx=%s\n' "$BACKEND" "$name" \
    "$(awk '/Requests\/sec/{print $2}' <<<"$out")" "$(awk '/^ +50%/{print $2}' <<<"$out")" \
    "$(awk '/^ +99%/{print $2}' <<<"$out")" "$( (awk '/Non-2xx/{print $NF}' <<<"$out"; echo 0) | head -1)"
}
BASIC=$BASIC LIST="$work/codes.txt" BODY="grant_type=authorization_code&code=%s&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fcb&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" \
  run_once "token-code-exchange" "$BASE/token" -s "$work/list.lua"
BASIC=$BASIC LIST="$work/refresh.txt" BODY="grant_type=refresh_token&refresh_token=%s" \
  run_once "token-refresh" "$BASE/token" -s "$work/list.lua"
ACCESS=$(cat "$work/access.txt")
run "userinfo" "$BASE/userinfo" -H "Authorization: Bearer $ACCESS"
