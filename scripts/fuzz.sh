#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 60 s each) with a seed corpus
# made from testdata/, and copies any crash input into testdata/fuzz-regressions/TARGET/,
# where tests/it/fuzz_regressions.rs replays it on every `cargo test`.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Needs the nightly toolchain (rustup) and cargo-fuzz (installed here from crates.io if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(certificates bundles configs targets pastes)

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# Seed corpora from the fixtures (fuzz/corpus is not committed).
mkdir -p fuzz/corpus/{certificates,bundles,configs,targets,pastes}
cp testdata/*.pem testdata/*.der testdata/*.p12 testdata/*.key testdata/flyte/*.yaml fuzz/corpus/bundles/ 2>/dev/null || true
cp testdata/flyte/*.yaml fuzz/corpus/configs/
for f in $(find testdata/deploy -name '*.yaml'); do
  rel=${f#testdata/deploy/}
  cp "$f" "fuzz/corpus/configs/deploy_${rel//\//_}"
done
python3 - <<'PY'
# Certificates target: 2-byte length-prefixed DER certificates, as the target splits them.
import base64, glob, pathlib, re
out = pathlib.Path("fuzz/corpus/certificates")
for pem in glob.glob("testdata/*.pem"):
    ders = [base64.b64decode(b) for b in re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END", pathlib.Path(pem).read_bytes(), re.S)]
    if ders:
        out.joinpath(pathlib.Path(pem).stem).write_bytes(b"".join(len(d).to_bytes(2, "big") + d for d in ders))
targets = ["flyte.example.com", "dns:///flyte.example.com:443", "https://[::1]:8443/x", "h:443:127.0.0.1,[::1]",
           "http://user:pw@proxy:3128", "https://console.example.com/"]
for i, t in enumerate(targets):
    pathlib.Path(f"fuzz/corpus/targets/seed{i}").write_text(t)
pastes = ['Post "https://flyte.example.com:443/oauth2/token": tls: failed to verify certificate: x509: \u201cflyte.example.com\u201d certificate is not standards compliant',
          "2026-11-29T10:00:00Z ERROR transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for a, b, not c",
          "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.5:443: Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: self signed certificate: OK",
          "NET::ERR_CERT_AUTHORITY_INVALID"]
for i, t in enumerate(pastes):
    pathlib.Path(f"fuzz/corpus/pastes/seed{i}").write_text(t)
PY

status=0
for target in "${targets[@]}"; do
  echo "== fuzzing $target for ${seconds}s"
  if ! cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048; then
    status=1
  fi
  for crash in fuzz/artifacts/"$target"/crash-* fuzz/artifacts/"$target"/timeout-* fuzz/artifacts/"$target"/oom-*; do
    [ -e "$crash" ] || continue
    mkdir -p "testdata/fuzz-regressions/$target"
    cp "$crash" "testdata/fuzz-regressions/$target/"
    echo "kept $crash as a regression input"
  done
done
exit $status
