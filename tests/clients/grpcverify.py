"""Connects with grpcio (BoringSSL), as pyflyte's gRPC channel does with
caCertFilePath as its root certificates, and prints "OK" or why the channel failed.
The server is not a gRPC server: a completed TLS handshake shows as an HTTP/2 or
unimplemented error, which counts as OK for the certificate.

Usage: python3 grpcverify.py ADDR SERVER_NAME CA_FILE
"""
import sys

import grpc


def main() -> None:
    addr, server_name, ca_file = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(ca_file, "rb") as f:
        roots = f.read()
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    options = [("grpc.ssl_target_name_override", server_name), ("grpc.default_authority", server_name)]
    with grpc.secure_channel(addr, credentials, options=options) as channel:
        call = channel.unary_unary("/grpc.health.v1.Health/Check")
        try:
            call(b"", timeout=5)
            print("OK")
        except grpc.RpcError as error:
            details = error.details() or ""
            markers = ("handshake failed", "Verification Check failed", "Peer name", "CERTIFICATE_VERIFY_FAILED", "Cannot check peer")
            if any(marker in details for marker in markers):
                print(details)
            else:
                print("OK")  # TLS completed; the (non-gRPC) server failed afterwards


if __name__ == "__main__":
    main()
