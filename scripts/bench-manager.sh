#!/usr/bin/env bash
# The manager's VM-facing throughput (issue 8 "Speed") against Debian's nginx in the same run:
#   - heartbeat PUTs over HTTPS, 256 kept-alive connections (target: 20,000/s or more); nginx
#     writes each one to a file with `dav_methods PUT`, the manager keeps the latest per VM in memory;
#   - heartbeat PUTs with a new TLS connection per request, RSA-2048 and ECDSA P-256 certificates,
#     full handshakes and TLS session resumption (target: at least nginx's rate, same certificate);
#   - pipe GETs answered 304 (If-None-Match), kept alive (target: 0.8 of nginx's rate or better).
# Each load runs ${BENCH_WARMUP:-3} s of warm-up, then ${BENCH_SECONDS:-10} s measured; for each
# server: requests/s, p99 latency, peak RSS (from /proc) and CPU per request (utime+stime from /proc).
# Kept-alive loads use wrk (-t2, a Lua script per load from scripts/bench-manager-load.ts); new-
# connection loads use bench-manager-load.ts's own client under bun, because wrk's latency leaves
# out the handshake and wrk never resumes a session. The load generator shares the machine's 2
# cores with the server, so the rates are what one 2-core box does as client and server at once:
# compare the columns of one run, and CPU per request.
# nginx runs as Debian configures it (worker_processes auto, access_log on), the manager as
# `dist/manager serve --state` with its request log on stderr to a file.
# Prints a Markdown table and saves it to scripts/bench-results/manager-<date>.md (ignored by git).
# Usage: scripts/bench-manager.sh. nginx and wrk are installed with apt-get when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNS=256
VMS=1024
MT=example-command
BUN=node_modules/.bin/bun

for pkg in nginx wrk; do
  if ! command -v "$pkg" >/dev/null && [ ! -x "/usr/sbin/$pkg" ]; then
    echo "bench-manager: $pkg is missing; installing it with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null || {
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null
    }
  fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x dist/manager ] || [ -n "$(find src -newer dist/manager -name '*.ts' -print -quit)" ]; then
  echo "bench-manager: dist/manager is missing or older than src/: bash scripts/build.sh x64" >&2
  bash scripts/build.sh x64 >&2
fi

W=$(mktemp -d /tmp/bench-manager.XXXXXX)
MANAGER_PIDS=()
cleanup() {
  for p in "${MANAGER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$W"
}
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT

# Certificates for 127.0.0.1: RSA-2048 and ECDSA P-256, self-signed.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/rsa.key" -out "$W/rsa.pem" -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ec.key" -out "$W/ec.pem" -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

# The shipped example definition; nginx serves the same pipe from a `manager export` tree.
cp -r examples/manager "$W/def"
dist/manager export "$W/def/definition.json" "$W/www" >/dev/null
mkdir -p "$W/www/vms" "$W/nginx-tmp"
# Both managers share one token key, so one Lua script holds the tokens for either.
for s in rsa ec; do
  mkdir -p "$W/state-$s" && chmod 700 "$W/state-$s"
  if [ "$s" = rsa ]; then openssl rand -hex 32 >"$W/state-rsa/vm-token.key"; else cp "$W/state-rsa/vm-token.key" "$W/state-ec/"; fi
  chmod 600 "$W/state-$s/vm-token.key"
done

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p; while :; do p=$((20000 + RANDOM % 30000)); port_free "$p" && { echo "$p"; return; }; done; }
NGX_RSA=$(pick_port)
NGX_EC=$(pick_port)

# Workers as the user running the bench (as root, nginx would switch to nobody, who cannot write here).
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;"
cat >"$W/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $W/nginx.pid;
error_log $W/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log $W/nginx-access.log;
  client_body_temp_path $W/nginx-tmp;
  proxy_temp_path $W/nginx-tmp; fastcgi_temp_path $W/nginx-tmp; uwsgi_temp_path $W/nginx-tmp; scgi_temp_path $W/nginx-tmp;
  types { application/json pipe; }
  keepalive_requests 1000000;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  server {
    listen 127.0.0.1:$NGX_RSA ssl;
    ssl_certificate $W/rsa.pem; ssl_certificate_key $W/rsa.key;
    root $W/www;
    location /vms/ { dav_methods PUT; create_full_put_path on; dav_access user:rw; }
  }
  server {
    listen 127.0.0.1:$NGX_EC ssl;
    ssl_certificate $W/ec.pem; ssl_certificate_key $W/ec.key;
    root $W/www;
    location /vms/ { dav_methods PUT; create_full_put_path on; dav_access user:rw; }
  }
}
EOF
"$NGINX" -c "$W/nginx.conf" -e "$W/nginx-error.log"

start_manager() { # $1: rsa|ec; prints the URL
  local s=$1 pid url
  dist/manager serve "$W/def/definition.json" --listen 127.0.0.1:0 --cert "$W/$s.pem" --key "$W/$s.key" --state "$W/state-$s" \
    >"$W/manager-$s.out" 2>"$W/manager-$s.log" &
  pid=$!
  for _ in $(seq 100); do
    url=$(head -n 1 "$W/manager-$s.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "bench-manager: the manager did not start:" >&2; cat "$W/manager-$s.log" >&2; exit 1; }
  echo "$pid $url"
}
read -r MGR_RSA_PID MGR_RSA_URL < <(start_manager rsa)
read -r MGR_EC_PID MGR_EC_URL < <(start_manager ec)
MANAGER_PIDS+=("$MGR_RSA_PID" "$MGR_EC_PID")
NGX_RSA_URL=https://127.0.0.1:$NGX_RSA
NGX_EC_URL=https://127.0.0.1:$NGX_EC
nginx_pids() { local m; m=$(cat "$W/nginx.pid"); echo "$m $(pgrep -P "$m" | tr '\n' ' ')"; }

# Lua scripts for wrk.
load=(--key "$W/state-rsa/vm-token.key" --vms "$VMS" --machinetype "$MT")
"$BUN" scripts/bench-manager-load.ts wrk-lua "${load[@]}" --put >"$W/put.lua"
PIPE=/pipes/example.pipe
etag_of() { curl -sk -D - -o /dev/null "$1$PIPE" | tr -d '\r' | awk 'tolower($1)=="etag:" { print $2 }'; }
"$BUN" scripts/bench-manager-load.ts wrk-lua --get "$PIPE" --etag "$(etag_of "$NGX_RSA_URL")" >"$W/get-nginx.lua"
"$BUN" scripts/bench-manager-load.ts wrk-lua --get "$PIPE" --etag "$(etag_of "$MGR_RSA_URL")" >"$W/get-manager.lua"

# Each server must answer a heartbeat and a 304 before it is measured.
check() { # $1 url, $2 expected status regexp, then curl arguments
  local url=$1 want=$2 got; shift 2
  got=$(curl -sk -o /dev/null -w '%{http_code}' "$@" "$url")
  [[ $got =~ ^($want)$ ]] || { echo "bench-manager: $url answered $got, expected $want" >&2; exit 1; }
}
TOKEN0=$(awk -F'"' 'NR==2 { print $4 }' "$W/put.lua")
for u in "$NGX_RSA_URL" "$MGR_RSA_URL" "$NGX_EC_URL" "$MGR_EC_URL"; do
  check "$u/vms/$MT/bench-0000/joboutputs/heartbeat" '201|204' -X PUT -H "Authorization: Bearer $TOKEN0" --data-binary 'check'
done
check "$NGX_RSA_URL$PIPE" 304 -H "If-None-Match: $(etag_of "$NGX_RSA_URL")"
check "$MGR_RSA_URL$PIPE" 304 -H "If-None-Match: $(etag_of "$MGR_RSA_URL")"

ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; }
rss_kb() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status"))); done; echo "$t"; }
HZ=$(getconf CLK_TCK)

# measure NAME "PIDS" COMMAND...: runs COMMAND (which prints one JSON line last) and appends
# NAME<TAB>json<TAB>cpu-seconds<TAB>peak-rss-kB to $W/results.
measure() {
  local name=$1 pids=$2 t0 t1 sampler out
  shift 2
  echo 0 >"$W/peak"
  # shellcheck disable=SC2086
  (peak=0; while :; do r=$(rss_kb $pids 2>/dev/null || echo 0); [ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" >"$W/peak"; }; sleep 0.5; done) &
  sampler=$!
  # shellcheck disable=SC2086
  t0=$(ticks $pids)
  out=$("$@" | grep '^{' | tail -n 1)
  # shellcheck disable=SC2086
  t1=$(ticks $pids)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\n' "$name" "$out" "$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { print (b - a) / hz }')" "$(cat "$W/peak")" >>"$W/results"
  echo "bench-manager: $name $out" >&2
}
wrk_run() { # url lua seconds
  wrk -t2 -c"$CONNS" -d"$3"s --timeout 10s --latency -s "$2" "$1"
}
keepalive() { # name url lua pids
  wrk_run "$2" "$3" "$WARMUP" >/dev/null
  measure "$1" "$4" wrk_run "$2" "$3" "$SECS"
}
newconn() { # name url pids [--resume]
  local name=$1 url=$2 pids=$3
  shift 3
  measure "$name" "$pids" "$BUN" scripts/bench-manager-load.ts connect --url "$url" "${load[@]}" \
    --concurrency "$CONNS" --seconds "$SECS" --warmup "$WARMUP" "$@"
}

LOAD_BEFORE=$(uptime)
: >"$W/results"
NGX_PIDS=$(nginx_pids)
keepalive "nginx put-keepalive" "$NGX_RSA_URL" "$W/put.lua" "$NGX_PIDS"
keepalive "manager put-keepalive" "$MGR_RSA_URL" "$W/put.lua" "$MGR_RSA_PID"
newconn "nginx put-new-rsa" "$NGX_RSA_URL" "$NGX_PIDS"
newconn "manager put-new-rsa" "$MGR_RSA_URL" "$MGR_RSA_PID"
newconn "nginx put-new-ec" "$NGX_EC_URL" "$NGX_PIDS"
newconn "manager put-new-ec" "$MGR_EC_URL" "$MGR_EC_PID"
newconn "nginx put-resume-rsa" "$NGX_RSA_URL" "$NGX_PIDS" --resume
newconn "manager put-resume-rsa" "$MGR_RSA_URL" "$MGR_RSA_PID" --resume
newconn "nginx put-resume-ec" "$NGX_EC_URL" "$NGX_PIDS" --resume
newconn "manager put-resume-ec" "$MGR_EC_URL" "$MGR_EC_PID" --resume
keepalive "nginx get304-keepalive" "$NGX_RSA_URL" "$W/get-nginx.lua" "$NGX_PIDS"
keepalive "manager get304-keepalive" "$MGR_RSA_URL" "$W/get-manager.lua" "$MGR_RSA_PID"
LOAD_AFTER=$(uptime)
HEARTBEATS=$(curl -sk "$MGR_RSA_URL/metrics" | awk '/^vacuum_manager_requests_total\{kind="joboutputs",status="201"\}/ { print $2 }')
KNOWN=$(curl -sk "$MGR_RSA_URL/metrics" | awk '/^vacuum_manager_vms\{/ { n += $2 } END { print n + 0 }')

mkdir -p scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' >scripts/bench-results/.gitignore
{
  echo "## manager vs nginx: heartbeat PUTs and pipe 304s over HTTPS ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "$(nproc) cores shared by server and load generator; $CONNS concurrent connections; ${WARMUP} s warm-up, ${SECS} s measured per row;"
  echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (worker_processes auto = $(($(echo "$NGX_PIDS" | wc -w) - 1)) workers), $(dist/manager --version 2>/dev/null | head -n 1), $(openssl version | cut -d' ' -f1-2)."
  echo "load before: ${LOAD_BEFORE#*load average: }; after: ${LOAD_AFTER#*load average: }"
  echo
  "$BUN" -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
    const by = new Map(rows.map(([name, json, cpu, rss]) => { const j = JSON.parse(json); return [name, { ...j, cpu: Number(cpu), rss: Number(rss) }]; }));
    const loads = [
      ["put-keepalive", "heartbeat PUT, kept alive (RSA)", (n, m) => m.rps >= 20000 ? "meets (>= 20,000/s)" : "misses (< 20,000/s)"],
      ["put-new-rsa", "heartbeat PUT, new TLS connection each, RSA-2048", (n, m) => m.rps >= n.rps ? "meets (>= nginx)" : "misses (< nginx)"],
      ["put-new-ec", "heartbeat PUT, new TLS connection each, ECDSA P-256", (n, m) => m.rps >= n.rps ? "meets (>= nginx)" : "misses (< nginx)"],
      ["put-resume-rsa", "heartbeat PUT, new TLS connection, session resumed, RSA", (n, m) => m.rps >= n.rps ? "meets (>= nginx)" : "misses (< nginx)"],
      ["put-resume-ec", "heartbeat PUT, new TLS connection, session resumed, ECDSA", (n, m) => m.rps >= n.rps ? "meets (>= nginx)" : "misses (< nginx)"],
      ["get304-keepalive", "pipe GET answered 304, kept alive", (n, m) => m.rps >= 0.8 * n.rps ? "meets (>= 0.8 nginx)" : "misses (< 0.8 nginx)"],
    ];
    const f = (x) => Math.round(x).toLocaleString("en-US");
    const ms = (us) => (us / 1000).toFixed(1) + " ms";
    console.log("| load | nginx req/s | manager req/s | manager / nginx | p99 nginx | p99 manager | RSS nginx | RSS manager | CPU/req nginx | CPU/req manager | target |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (const [key, label, verdict] of loads) {
      const n = by.get("nginx " + key), m = by.get("manager " + key);
      if (!n || !m) continue;
      for (const r of [n, m]) { r.rps = r.requests / (r.duration_us / 1e6); r.cpuUs = r.requests ? (r.cpu * 1e6) / r.requests : 0; }
      const bad = (r) => r.errors || r.non2xx3xx ? ` (${r.errors} errors, ${r.non2xx3xx} >= 400)` : "";
      const resumed = (r) => r.resumed === undefined ? "" : ` (${Math.round(r.resumed * 100)}% resumed)`;
      console.log(`| ${label} | ${f(n.rps)}${bad(n)}${key.includes("resume") ? resumed(n) : ""} | ${f(m.rps)}${bad(m)}${key.includes("resume") ? resumed(m) : ""} | ${(m.rps / n.rps).toFixed(2)} | ${ms(n.p99_us)} | ${ms(m.p99_us)} | ${f(n.rss / 1024)} MiB | ${f(m.rss / 1024)} MiB | ${f(n.cpuUs)} µs | ${f(m.cpuUs)} µs | ${verdict(n, m)} |`);
    }
  ' "$W/results"
  echo
  echo "RSS: peak during the row (nginx: master and workers added up). CPU/req: the server's utime+stime over the row, per request answered."
  echo "The manager counted ${HEARTBEATS:-?} heartbeat PUTs answered 201 on its RSA instance and knows ${KNOWN} VMs."
} | tee "scripts/bench-results/manager-$(date -u +%Y-%m-%d).md"
