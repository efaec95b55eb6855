"""Verifies many TLS servers the way pyflyte's OAuth client (requests on urllib3 2,
OpenSSL) does with caCertFilePath, like pyverify.py but one process for all cases:
Python's ssl module with that file as the only trust anchors, no Common Name
fallback, and the host name as urllib3 passes it on.

stdin:  JSON lines {"id", "addr", "server_name", "ca_file"}
stdout: JSON lines {"id", "result"}: "OK", OpenSSL's verify message for a verify
failure, or another SSLError's text without its "(_ssl.c:NNNN)" source location
(which depends on the Python build). A timeout is tried once more, then reported
as "ERROR: ...", which the harness treats as its own failure.
"""
import json
import re
import socket
import ssl
import sys

LOCATION = re.compile(r" \(_ssl\.c:\d+\)$")


def verify(case: dict) -> str:
    host, port = case["addr"].rsplit(":", 1)
    try:
        context = ssl.create_default_context(cafile=case["ca_file"])
    except ssl.SSLError as error:
        return LOCATION.sub("", str(error))
    context.hostname_checks_common_name = False  # urllib3 2 never falls back to the CN
    # urllib3 2 strips a trailing dot from the host before ssl sees it (for SNI and the
    # name check alike), so "https://flyte.example.com./" verifies flyte.example.com.
    server_name = case["server_name"].rstrip(".")
    for attempt in range(2):
        try:
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname=server_name):
                    return "OK"
        except ssl.SSLCertVerificationError as error:
            return error.verify_message
        except ssl.SSLError as error:
            return LOCATION.sub("", str(error))
        except (socket.timeout, TimeoutError) as error:
            if attempt == 1:
                return f"ERROR: {error!r}"
        except OSError as error:
            return f"ERROR: {error!r}"
    return "ERROR: unreachable"


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            case = json.loads(line)
            print(json.dumps({"id": case["id"], "result": verify(case)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
