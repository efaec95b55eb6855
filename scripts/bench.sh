#!/usr/bin/env bash
# Benchmarks certready against its peers and against the bare handshake rate, on one
# machine, over loopback only. Installs what it needs (Debian: nginx, hyperfine, time, wrk,
# openssl; PyPI: sslyze), starts nginx on N loopback ports with a test chain, and prints
# every measurement side by side. Results go to docs/performance.md by hand.
# Usage: [BENCH_ROUNDS=N] [BENCH_DISTINCT_LEAVES=1] scripts/bench.sh [ENDPOINTS (default 1000)] [all|fleet|scale]
#   fleet: only the many-endpoints comparison, in BENCH_ROUNDS (default 5) alternating
#   rounds with the median ratio (the two share two cores with nginx, so single runs vary).
#   scale: `check --targets` with BENCH_SCALE (default "1000 10000 100000") targets over the
#   ENDPOINTS ports (repeated), wall time and peak RSS per output format, then `serve`'s
#   RSS after a round of the largest list; fails when a peak passes 100 MiB or a wall time
#   passes 1.3x linear from the first size.
set -euo pipefail
cd "$(dirname "$0")/.."
endpoints=${1:-1000}
parts=${2:-all}
rounds=${BENCH_ROUNDS:-5}
first_port=20000
work=$(mktemp -d)
nginx_pid=""
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

need=()
for tool in nginx hyperfine /usr/bin/time wrk openssl; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$(basename "$tool")")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
python3 -m sslyze --help >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check sslyze

echo "== building certready (release) and the bare-handshake baseline"
cargo build --release --quiet --bin certready --example handshake_rate
certready=$PWD/target/release/certready
baseline=$PWD/target/release/examples/handshake_rate

if [ "$parts" = all ]; then
echo "== 0. binary size and cold start"
echo "target/release/certready: $(stat -c %s "$certready") bytes"
hyperfine -N --warmup 5 --runs 50 --style basic "$certready --version" 2>&1 | grep -E "Time \(mean" || true
fi

echo "== test chain and nginx on $endpoints loopback ports"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Bench Root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=bench.example.com" \
  -keyout "$work/leaf.key" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:bench.example.com\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' > "$work/leaf.ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 30 \
  -extfile "$work/leaf.ext" -out "$work/leaf.pem" 2>/dev/null
# BENCH_DISTINCT_LEAVES=1: every port serves its own leaf (same key, own serial and
# signature), as a fleet of separately issued certificates does; certready then verifies
# every leaf's signature instead of remembering one.
distinct=${BENCH_DISTINCT_LEAVES:-0}
if [ "$distinct" = 1 ]; then
  for ((i = 0; i < endpoints; i++)); do
    openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -set_serial $((1000 + i)) \
      -days 30 -extfile "$work/leaf.ext" -out "$work/leaf-$i.pem" 2>/dev/null
  done
fi
{
  echo "worker_processes 1; pid $work/nginx.pid; error_log $work/error.log; worker_rlimit_nofile 16384;"
  echo "events { worker_connections 8192; }"
  echo "http { access_log off; ssl_session_cache off; ssl_session_tickets off;"
  echo "  ssl_certificate_key $work/leaf.key;"
  if [ "$distinct" = 1 ]; then
    for ((i = 0; i < endpoints; i++)); do
      echo "  server { listen 127.0.0.1:$((first_port + i)) ssl http2; ssl_certificate $work/leaf-$i.pem; location / { return 204; } }"
    done
  else
    echo "  server {"
    # "listen … ssl http2" is the form Debian's nginx 1.22 knows (no "http2 on;" before 1.25).
    for ((i = 0; i < endpoints; i++)); do echo "  listen 127.0.0.1:$((first_port + i)) ssl http2;"; done
    echo "  ssl_certificate $work/leaf.pem; location / { return 204; } }"
  fi
  echo "}"
} > "$work/nginx.conf"
ulimit -n 65536 2>/dev/null || true  # 1000 listeners plus connections
nginx -c "$work/nginx.conf" -p "$work" -g "daemon off;" &
nginx_pid=$!
for _ in $(seq 50); do openssl s_client -connect 127.0.0.1:$first_port </dev/null >/dev/null 2>&1 && break; sleep 0.1; done

one="bench.example.com:$first_port"
resolve="bench.example.com:$first_port:127.0.0.1"
list="$work/targets.txt"
for ((i = 0; i < endpoints; i++)); do echo "127.0.0.1:$((first_port + i))"; done > "$list"
# The realistic fleet setup: the OS store as it is, the private CA given with --ca-file.
unset SSL_CERT_FILE SSL_CERT_DIR

if [ "$parts" = scale ]; then
  echo
  echo "== scale: check --targets at concurrency 32, --output FILE, each format ($endpoints ports, repeated)"
  sizes=(${BENCH_SCALE:-1000 10000 100000})
  failed=0
  printf '%-9s %-11s %9s %9s %10s %12s\n' targets format "wall s" checks/s "peak MiB" "vs linear"
  declare -A first_wall
  for size in "${sizes[@]}"; do
    big="$work/scale-$size.txt"
    awk -v n="$size" -v e="$endpoints" -v p="$first_port" 'BEGIN { for (i = 0; i < n; i++) print "127.0.0.1:" p + i % e }' > "$big"
    for format in text json markdown prometheus; do
      out="$work/scale.out"
      /usr/bin/time -o "$work/time" -f "%e %M" "$certready" check --targets "$big" --concurrency 32 --ca-file "$work/ca.pem" \
        --format "$format" --output "$out" >/dev/null 2>&1 || true
      measured=$(tail -1 "$work/time")
      wall=${measured% *}
      peak=${measured#* }
      case $format in
        json) checked=$(grep -c '^      "target": ' "$out" || true) ;;
        prometheus) checked=$(grep -c '^certready_status{' "$out" || true) ;;
        markdown) checked=$(grep -c '^## ' "$out" || true) ;;
        text) checked=$(grep -cE '^127\.0\.0\.1:[0-9]+ ' "$out" || true) ;;
      esac
      [ "$checked" = "$size" ] || { echo "  $format: $checked of $size reports in the output"; failed=1; }
      [ -n "${first_wall[$format]:-}" ] || first_wall[$format]="$wall $size"
      read -r w0 n0 <<< "${first_wall[$format]}"
      verdict=$(python3 -c "import sys; w, n, w0, n0, peak = map(float, sys.argv[1:]); r = (w / n) / (w0 / n0); print(f'{n / w:9.0f} {peak / 1024:10.1f} {r:11.2f}x', 'FAIL' if r > 1.3 or peak > 100 * 1024 else '')" "$wall" "$size" "$w0" "$n0" "$peak")
      printf '%-9s %-11s %9s %s\n' "$size" "$format" "$wall" "$verdict"
      case $verdict in *FAIL*) failed=1 ;; esac
    done
  done
  largest="$work/scale-${sizes[-1]}.txt"
  port=$((first_port - 1))
  "$certready" serve --listen 127.0.0.1:$port --targets "$largest" --interval 1h --ca-file "$work/ca.pem" 2>/dev/null &
  serve_pid=$!
  started=$(date +%s.%N)
  for _ in $(seq 3000); do [ "$(curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:$port/metrics)" = 200 ] && break; sleep 0.2; done
  round=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$started")
  bytes=$(curl -s 127.0.0.1:$port/metrics | wc -c)
  echo "serve, ${sizes[-1]} targets: first round ${round}s, /metrics $((bytes / 1024 / 1024)) MiB," \
    "RSS $(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$serve_pid/status) MiB (peak $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$serve_pid/status) MiB)"
  exit $failed
fi

if [ "$parts" = all ]; then
echo
echo "== 1. one endpoint: whole-process wall time (hyperfine) and peak RSS (GNU time)"
# openssl s_client waits for stdin until EOF: the shell gives it /dev/null.
hyperfine --warmup 3 --runs 30 --style basic --ignore-failure \
  "$certready check $one --resolve $resolve --ca-file $work/ca.pem --format json >/dev/null" \
  "openssl s_client -connect 127.0.0.1:$first_port -servername bench.example.com -CAfile $work/ca.pem -verify_return_error </dev/null >/dev/null 2>&1" \
  "python3 -m sslyze --certinfo 127.0.0.1:$first_port >/dev/null" \
  2>&1 | grep -E "Benchmark|Time \(mean|faster than|±" || true
rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null </dev/null | tail -1; }
echo "peak RSS (KiB): certready $(rss "$certready" check "$one" --resolve "$resolve" --ca-file "$work/ca.pem" --format json)" \
  "| openssl s_client $(rss openssl s_client -connect 127.0.0.1:$first_port -CAfile "$work/ca.pem")" \
  "| sslyze $(rss python3 -m sslyze --certinfo 127.0.0.1:$first_port)"
fi

echo
echo "== 2. $endpoints endpoints at concurrency 32 ($( [ "$parts" = all ] && echo 1 || echo "$rounds") round(s), alternating)"
mapfile -t targets < "$list"
[ "$parts" = all ] && rounds=1
ratios=()
whole_ratios=()
run_certready() {
  local start end peak checks
  start=$(date +%s.%N)
  peak=$(/usr/bin/time -f "%M" "$certready" check --targets "$list" --concurrency 32 --ca-file "$work/ca.pem" \
    --format prometheus --output "$work/out.prom" 2>&1 >/dev/null | tail -1) || true
  end=$(date +%s.%N)
  checks=$(grep -c '^certready_probe_success{.*} 1' "$work/out.prom" || true)
  echo "$start $end $checks $peak"
}
# The baseline times its handshakes inside the process; the wall time of the whole process
# (start-up and exit included, as for certready) is taken too.
run_baseline() {
  local start end line
  start=$(date +%s.%N)
  line=$("$baseline" 32 "${targets[@]}")
  end=$(date +%s.%N)
  echo "$start $end $line"
}
# A run right after the other one connects to the same ports while the first run's
# TIME_WAIT sockets crowd the ports Linux tries first, so each round swaps the order.
[ "$parts" = all ] || { run_baseline >/dev/null; run_certready >/dev/null; }  # warm-up
for ((round = 1; round <= rounds; round++)); do
  if ((round % 2)); then
    base=$(run_baseline)
    mine=$(run_certready)
  else
    mine=$(run_certready)
    base=$(run_baseline)
  fi
  result=$(python3 - "$mine" "$base" <<'PY'
import re, sys
start, end, checks, peak = sys.argv[1].split()
b_start, b_end, b_line = sys.argv[2].split(" ", 2)
start, end, checks, peak = float(start), float(end), int(checks), int(peak)
rate = checks / (end - start)
base_rate = float(re.search(r"= ([0-9.]+)/s", b_line).group(1))
handshakes = int(b_line.split()[0])
whole_base_rate = handshakes / (float(b_end) - float(b_start))
print(f"{100 * rate / base_rate:.0f} {100 * rate / whole_base_rate:.0f}")
print(f"bare rustls handshakes (same stack, no analysis): {b_line} (whole process {whole_base_rate:.1f}/s)", file=sys.stderr)
print(f"certready check: {checks} checks in {end - start:.2f}s = {rate:.1f}/s, {100 * rate / base_rate:.0f}% of the bare handshake rate ({100 * rate / whole_base_rate:.0f}% process to process)", file=sys.stderr)
print(f"peak RSS for {checks} targets: {peak / 1024:.1f} MiB", file=sys.stderr)
PY
)
  ratios+=("${result% *}")
  whole_ratios+=("${result#* }")
done
summary() {
  printf '%s\n' "${@:2}" | sort -n | awk -v what="$1" '{a[NR]=$1} END {print what ": " NR " rounds, median " a[int((NR+1)/2)] "%, min " a[1] "%, max " a[NR] "%"}'
}
summary "ratio to the in-process handshake rate" "${ratios[@]}"
summary "ratio process to process" "${whole_ratios[@]}"
[ "$parts" = all ] || exit 0
echo "openssl s_time (one connection at a time, for reference):"
openssl s_time -connect 127.0.0.1:$first_port -new -time 5 2>/dev/null | grep -E "connections/user sec|connections in" || true

echo
echo "== 3. serve: sustained scraping of /metrics ($endpoints targets configured)"
port=$((first_port - 1))
"$certready" serve --listen 127.0.0.1:$port --targets "$list" --interval 10s --ca-file "$work/ca.pem" 2>/dev/null &
serve_pid=$!
for _ in $(seq 300); do [ "$(curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:$port/metrics)" = 200 ] && break; sleep 0.2; done
rss_of() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss_of "$serve_pid")
# Far more than 200 scrapes/s, in four 30 s rounds: RSS must level off, not climb.
for round in 1 2 3 4; do
  rate=$(wrk -t2 -c8 -d30s "http://127.0.0.1:$port/metrics" | awk '/Requests\/sec/ {print $2}')
  echo "round $round: $rate scrapes/s, serve RSS $(rss_of "$serve_pid") KiB (started at $before KiB)"
done
