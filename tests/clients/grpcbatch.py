"""Connects to many TLS servers with grpcio (BoringSSL), as pyflyte's gRPC channel does
with caCertFilePath as its root certificates: grpcverify.py for all cases in one
process, one channel per case.

The servers are not gRPC servers: a completed TLS handshake shows as an HTTP/2 or
unimplemented error, which counts as OK for the certificate (grpcverify.py's
heuristic); only details naming the handshake or the verification are failures.

stdin:  JSON lines {"id", "addr", "server_name", "ca_file"}
stdout: JSON lines {"id", "result", "raw"}: result is "OK" or grpcio's details;
raw is the details behind an "OK" (for reading, not compared). With
GRPCBATCH_DEFAULT_ROOTS=1 the channel uses grpcio's default roots instead of ca_file. A deadline exceeded is
tried once more, then reported as "ERROR: ...", the harness's own failure.
"""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc

MARKERS = (
    "handshake failed",
    "Verification Check failed",
    "Peer name",
    "CERTIFICATE_VERIFY_FAILED",
    # The channel could not even be set up from the root certificates.
    "Handshaker factory creation failed",
)


def verify(case: dict) -> dict:
    if os.environ.get("GRPCBATCH_DEFAULT_ROOTS") == "1":
        # No caCertFilePath: grpcio's default roots, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when
        # set (read once per process).
        credentials = grpc.ssl_channel_credentials()
    else:
        with open(case["ca_file"], "rb") as f:
            roots = f.read()
        credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    server_name = case["server_name"]
    options = [("grpc.ssl_target_name_override", server_name), ("grpc.default_authority", server_name)]
    for attempt in range(2):
        with grpc.secure_channel(case["addr"], credentials, options=options) as channel:
            call = channel.unary_unary("/grpc.health.v1.Health/Check")
            try:
                call(b"", timeout=5)
                return {"id": case["id"], "result": "OK", "raw": ""}
            except grpc.RpcError as error:
                details = error.details() or ""
                if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    if attempt == 0:
                        continue
                    return {"id": case["id"], "result": f"ERROR: {details}", "raw": details}
                if any(marker in details for marker in MARKERS):
                    return {"id": case["id"], "result": details, "raw": details}
                return {"id": case["id"], "result": "OK", "raw": details}
    return {"id": case["id"], "result": "ERROR: unreachable", "raw": ""}


def main() -> None:
    cases = [json.loads(line) for line in sys.stdin if line.strip()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for answer in pool.map(verify, cases):
            print(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
