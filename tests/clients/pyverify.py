"""Connects to a TLS server and verifies its certificate the way pyflyte's OAuth client
(requests on urllib3 2, OpenSSL) does with caCertFilePath: Python's ssl module with that
file as the only trust anchors and no Common Name fallback. Prints "OK" or OpenSSL's
verify message. With a fifth argument "common-name", Python's default
hostname_checks_common_name (plain `ssl`) is kept instead.

Usage: python3 pyverify.py HOST PORT SERVER_NAME CA_FILE [common-name]
"""
import socket
import ssl
import sys


def main() -> None:
    host, port, server_name, ca_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    context = ssl.create_default_context(cafile=ca_file)
    if sys.argv[5:] != ["common-name"]:
        context.hostname_checks_common_name = False  # urllib3 2 never falls back to the CN
    with socket.create_connection((host, port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=server_name):
                print("OK")
        except ssl.SSLCertVerificationError as error:
            print(error.verify_message)


if __name__ == "__main__":
    main()
