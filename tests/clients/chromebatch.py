"""Opens many TLS servers in a real headless Chromium, as a user would type
https://HOST:PORT/ with the case's CA file imported as a trusted root: Chromium's
own certificate verifier (its Chrome Root Store plus the roots of the profile's NSS
database) judges the chain.

stdin:  JSON lines {"id", "addr", "server_name", "ca_file"}
stdout: JSON lines {"id", "result"[, "raw"]}: "OK" when the page loads, else
Chromium's net error ("net::ERR_CERT_AUTHORITY_INVALID"); "raw" says which of the
case's certificates NSS refused to import (left untrusted, as a user's import fails).
A case the driver could not bring to an answer is "ERROR: ...", which the harness
treats as its own failure.

How: `chromium --headless --remote-debugging-pipe` is driven over the DevTools
protocol on fds 3 (commands in) and 4 (answers out), JSON messages ending in NUL,
with the standard library only. Every case's certificates go into the NSS database
of a temporary HOME ($HOME/.pki/nssdb, `certutil -A -t "C,,"`, what importing
them as Authorities "trusted for websites" in Chromium's settings does), which
Chromium on Linux reads as locally added roots. `--host-resolver-rules` sends every
case's host name to 127.0.0.1 and every other name nowhere: no request leaves the
machine. Each case loads in a browser context of its own (no sockets, TLS sessions
or HTTP state shared between cases).

One browser judges all the cases. That is faithful only because no two cases'
CAs share a subject name (the differential generator ends each name with the case
id): Chromium looks issuers up by name, and would otherwise try another case's root
of the same name (and, the generator pooling keys, even verify with it). `--fresh`,
a browser per case, gave the same answers on the default sample.

Options (for the faithfulness checks): `--fresh` starts a browser per case;
`--parallel N` navigations at once; `--trust FLAGS` sets certutil's trust flags
(default "C,,"); `--flag F` adds a chromium flag (e.g. a net log).

Certificate Transparency (`--public-roots FILE --ct-log-list FILE`): Chromium enforces
CT only for a root of its Chrome Root Store ("known root") and only with SCTs from the
logs of its own list. Both arrive in the "PKI Metadata" component, which the component
updater finds already installed in the profile (<user-data-dir>/PKIMetadata/<version>/
with a manifest.json; an installed component's files are not checked against a
signature): `crs.pb` (chrome_root_store.RootStore, net/cert/root_store.proto) holds the
roots of FILE as trust anchors, under a version above the compiled-in store's (which
CertVerifierServiceFactoryImpl::UpdateChromeRootStore requires), and `ct_config.pb`
(chrome_browser_certificate_transparency.CTConfig,
components/certificate_transparency/certificate_transparency_config.proto) the logs of
the v3 JSON list. Chromium applies them as at any start
(PKIMetadataComponentInstallerService::OnComponentReady); CT enforcement itself is the
feature CertificateTransparencyAskBeforeEnabling, on by default in Google Chrome only.
The component updater then runs (no --disable-component-update), but its update check
goes to a name the host rules send nowhere.
"""
import argparse
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")
# One navigation: Chromium's own AIA fetch timeout (10 s per URL) must fit in it.
NAVIGATE_TIMEOUT = 45.0
COMMAND_TIMEOUT = 15.0
# Startup to the PKI Metadata component in effect (about 1 s seen).
READY_TIMEOUT = 20.0
START_TIMEOUT = 30.0
# Navigations at once in one browser: enough to overlap stalled AIA fetches.
PARALLEL = 4
CERTUTIL_TIMEOUT = 30.0
PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.DOTALL
)

# Everything that could reach the network or add state beyond this run's profile.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--no-pings",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--safebrowsing-disable-auto-update",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-features="
    + ",".join(
        [
            "SafeBrowsing",
            "SafeBrowsingEnhancedProtection",
            "OptimizationHints",
            "MediaRouter",
            "Translate",
            "AutofillServerCommunication",
            "CertificateTransparencyComponentUpdater",
            "InterestFeedContentSuggestions",
            "HttpsUpgrades",
            "HttpsFirstBalancedModeAutoEnable",
            "DnsOverHttps",
            "AsyncDns",
            "NetworkTimeServiceQuerying",
        ]
    ),
]


class DriverError(Exception):
    pass


# Above any compiled-in Chrome Root Store version (tens in 2025): only a newer store
# replaces it.
CRS_VERSION = 1_000_000
# The component's version directory; any valid version does (nothing is bundled).
PKI_METADATA_VERSION = "9999.0.0.1"
# CTLog.CurrentState by the v3 JSON list's state names.
LOG_STATES = {"pending": 1, "qualified": 2, "usable": 3, "readonly": 4, "retired": 5, "rejected": 6}


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 as protobuf's two's complement
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value) -> bytes:
    """One protobuf field: an int as a varint, bytes/str as length-delimited."""
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    if isinstance(value, str):
        value = value.encode()
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _timestamp(rfc3339: str) -> bytes:
    """A CTTimestamp {seconds} from an RFC 3339 time as the v3 list writes it."""
    from datetime import datetime

    seconds = int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())
    return _field(1, seconds)


def crs_proto(pem_text: str) -> bytes:
    """chrome_root_store.RootStore: every certificate of the PEM text a trust anchor."""
    import base64

    anchors = b"".join(
        _field(1, _field(1, base64.b64decode("".join(body.split()))))
        for body in PEM.findall(pem_text)
    )
    return anchors + _field(2, CRS_VERSION)


def ct_config_proto(log_list: dict) -> bytes:
    """CTConfig {log_list} from a log list in the v3 JSON schema."""
    logs = b""
    operators = b""
    for operator in log_list.get("operators", []):
        operators += _field(5, _field(1, operator["name"]))
        for log in operator.get("logs", []) + operator.get("tiled_logs", []):
            (state, since), = log["state"].items()
            logs += _field(
                6,
                _field(1, log.get("description", ""))
                + _field(2, log["key"])
                + _field(3, log["log_id"])
                + _field(4, int(log.get("mmd", 86400)))
                + _field(5, log.get("url", log.get("submission_url", "")))
                + _field(8, _field(1, LOG_STATES[state]) + _field(2, _timestamp(since["timestamp"])))
                + _field(9, _field(1, operator["name"]) + _field(2, _field(1, 0)))
                + _field(18, 2 if "submission_url" in log else 1),
            )
    listed = (
        _field(1, 1)
        + _field(3, _timestamp(log_list["log_list_timestamp"]))
        + operators
        + logs
    )
    return _field(2, listed)


def install_pki_metadata(profile: str, public_roots: str, ct_log_list: str) -> None:
    """The PKI Metadata component, as if the component updater had installed it."""
    folder = os.path.join(profile, "PKIMetadata", PKI_METADATA_VERSION)
    os.makedirs(folder)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"manifest_version": 2, "name": "PKI Metadata", "version": PKI_METADATA_VERSION}, f)
    with open(public_roots, encoding="utf-8") as f:
        crs = crs_proto(f.read())
    with open(os.path.join(folder, "crs.pb"), "wb") as f:
        f.write(crs)
    with open(ct_log_list, encoding="utf-8") as f:
        config = ct_config_proto(json.load(f))
    with open(os.path.join(folder, "ct_config.pb"), "wb") as f:
        f.write(config)


def chromium_binary() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        path = shutil.which(candidate) if "/" not in candidate else candidate
        if path and os.access(path, os.X_OK):
            return path
    raise DriverError("no chromium binary")


def pem_blocks(text: str) -> list:
    return [
        "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % body
        for body in PEM.findall(text)
    ]


def certutil(args: list, what: str) -> None:
    try:
        done = subprocess.run(
            ["certutil"] + args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CERTUTIL_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise DriverError(f"certutil {what}: timed out")
    if done.returncode != 0:
        message = (done.stderr or done.stdout).decode(errors="replace").strip()
        raise DriverError(f"certutil {what}: {message}")


def hosts_rule(names) -> str:
    """Every case's name to 127.0.0.1 (ports come from the URL), any other name nowhere
    (Chromium still tries the component updater, accounts and a connectivity check).
    The rules apply to IP literals too: 127.0.0.1, where the AIA server listens, stays."""
    names = set(names) | {name.rstrip(".").lower() for name in names}
    rules = [f"MAP {name} 127.0.0.1" for name in sorted(names) if name != "127.0.0.1"]
    rules += ["MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1"]
    return ", ".join(rules)


def url_for(case: dict) -> str:
    """What a user types: the dialled name as is; brackets around an IPv6 literal."""
    host = case["server_name"]
    port = case["addr"].rsplit(":", 1)[1]
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{port}/"


class Browser:
    """One headless Chromium with its own HOME (NSS database) and profile."""

    def __init__(self, pki_metadata=None):
        # (public roots PEM file, v3 log list file) to install as the PKI Metadata
        # component: Chromium then enforces CT (see the module's doc).
        self.pki_metadata = pki_metadata
        self.dir = tempfile.mkdtemp(prefix="chromebatch-")
        self.home = os.path.join(self.dir, "home")
        self.next_id = 0
        self.buffer = b""
        self.process = None
        self.write_fd = self.read_fd = None
        # Case id -> why NSS refused one of its certificates (left out, as a user's
        # import would fail): certutil of NSS 3.87 cannot import Ed25519 certificates.
        self.refused = {}

    def trust(self, cases: list, flags: str) -> None:
        """Imports every certificate of the cases' CA files with trust `flags`."""
        nssdb = os.path.join(self.home, ".pki", "nssdb")
        os.makedirs(nssdb)
        certutil(["-N", "-d", f"sql:{nssdb}", "--empty-password"], "-N")
        for case in cases:
            with open(case["ca_file"], encoding="utf-8", errors="replace") as f:
                blocks = pem_blocks(f.read())
            for n, block in enumerate(blocks):
                path = os.path.join(self.dir, f"ca-{case['id']}-{n}.pem")
                with open(path, "w") as f:
                    f.write(block)
                try:
                    certutil(
                        ["-A", "-d", f"sql:{nssdb}", "-n", f"case {case['id']} #{n}"]
                        + ["-t", flags, "-a", "-i", path],
                        f"-A case {case['id']}",
                    )
                except DriverError as error:
                    if "SEC_ERROR_ADDING_CERT" not in str(error):
                        raise
                    self.refused[case["id"]] = (
                        f"NSS refused certificate #{n} of the CA file: {error}"
                    )

    def start(self, names) -> None:
        to_chrome_r, self.write_fd = os.pipe()
        self.read_fd, from_chrome_w = os.pipe()
        # Above 4 (so that placing them on 3 and 4 in the child cannot clobber one) and
        # closed on exec; the copies dup2 makes on 3 and 4 stay open in chromium.
        child_in = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def place_fds():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        env = {
            "HOME": self.home,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TMPDIR": self.dir,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "LANG": "C.UTF-8",
        }
        profile = os.path.join(self.dir, "profile")
        flags = FLAGS
        if self.pki_metadata:
            install_pki_metadata(profile, *self.pki_metadata)
            flags = [f for f in FLAGS if f != "--disable-component-update"] + [
                "--enable-features=CertificateTransparencyAskBeforeEnabling"
            ]
        args = [chromium_binary()] + flags + [
            f"--user-data-dir={profile}",
            f"--host-resolver-rules={hosts_rule(names)}",
            "about:blank",
        ]
        try:
            with open(os.path.join(self.dir, "stderr.txt"), "wb") as stderr:
                self.process = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    env=env,
                    close_fds=False,
                    preexec_fn=place_fds,
                    start_new_session=True,
                )
        finally:
            os.close(child_in)
            os.close(child_out)
        self.call("Target.setDiscoverTargets", {"discover": False}, START_TIMEOUT)

    def send(self, method: str, params: dict, session: str = None) -> int:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while data:
            _, ready, _ = select.select([], [self.write_fd], [], _left(deadline))
            if not ready:
                raise DriverError(f"{method}: chromium does not read its pipe")
            data = data[os.write(self.write_fd, data) :]
        return self.next_id

    def receive(self, deadline: float) -> dict:
        """The next message, or None at the deadline."""
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.read_fd], [], [], _left(deadline))
            if not ready:
                return None
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise DriverError("chromium closed its pipe: " + self.stderr_tail())
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict, timeout: float = COMMAND_TIMEOUT) -> dict:
        wanted = self.send(method, params)
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(deadline)
            if message is None:
                raise DriverError(f"{method}: no answer from chromium in {timeout:.0f} s")
            if message.get("id") == wanted:
                if "error" in message:
                    raise DriverError(f"{method}: {message['error']}")
                return message.get("result", {})

    def judge(self, cases: list, parallel: int):
        """Loads each case's URL in a browser context of its own, `parallel` at a time
        (an AIA fetch that stalls holds its case only); yields (case, result)."""
        waiting = list(reversed(cases))
        running = {}  # command id -> Load
        while waiting or running:
            while waiting and len(running) < parallel:
                load = Load(waiting.pop())
                running[self.send(*load.next(None))] = load
            expired = [i for i, l in running.items() if l.deadline < time.monotonic()]
            for i in expired:
                load = running.pop(i)
                yield load.case, f"ERROR: no answer from chromium to {load.step} in time"
                if load.context:
                    self.send("Target.disposeBrowserContext", {"browserContextId": load.context})
            if not running:
                continue
            message = self.receive(min(l.deadline for l in running.values()))
            if message is None or message.get("id") not in running:
                continue
            load = running.pop(message["id"])
            if "error" in message:
                yield load.case, f"ERROR: {load.step}: {message['error']}"
                if load.context:
                    self.send("Target.disposeBrowserContext", {"browserContextId": load.context})
                continue
            step = load.next(message.get("result", {}))
            if step is None:
                yield load.case, load.result
            else:
                running[self.send(*step)] = load

    def wait_ready(self, probe: dict) -> None:
        """Loads `probe` (a case Chromium accepts only once the PKI Metadata component is
        applied: a leaf of a public root with SCTs of the listed logs) until Chromium
        accepts it. The component is registered after startup and applied over a few
        asynchronous hops, so the first navigations would see the compiled-in store."""
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            (_, result), = self.judge([probe], 1)
            if result == "OK":
                return
            if time.monotonic() > deadline:
                raise DriverError(
                    f"Chromium never applied the PKI Metadata component in {READY_TIMEOUT:.0f} s:"
                    f" the probe {probe['id']} still gets {result}"
                )
            time.sleep(0.2)

    def stderr_tail(self) -> str:
        try:
            with open(os.path.join(self.dir, "stderr.txt"), "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        if self.process is not None:
            try:
                self.send("Browser.close", {})
                self.process.wait(timeout=10)
            except (DriverError, OSError, subprocess.TimeoutExpired):
                pass
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for fd in (self.write_fd, self.read_fd):
            if fd is not None:
                os.close(fd)
        shutil.rmtree(self.dir, ignore_errors=True)


class Load:
    """One case's steps: a browser context, a tab in it, attach, navigate, dispose."""

    def __init__(self, case: dict):
        self.case = case
        self.context = None
        self.result = None
        self.step = None
        self.deadline = 0.0

    def next(self, answer):
        """The command after `answer` to the previous one, or None when done."""
        previous, self.step = self.step, None
        if previous is None:
            self.step = "Target.createBrowserContext"
            params, session = {"disposeOnDetach": True}, None
        elif previous == "Target.createBrowserContext":
            self.context = answer["browserContextId"]
            self.step = "Target.createTarget"
            params = {"url": "about:blank", "browserContextId": self.context}
            session = None
        elif previous == "Target.createTarget":
            self.step = "Target.attachToTarget"
            params, session = {"targetId": answer["targetId"], "flatten": True}, None
        elif previous == "Target.attachToTarget":
            self.step = "Page.navigate"
            params, session = {"url": url_for(self.case)}, answer["sessionId"]
        elif previous == "Page.navigate":
            self.result = answer.get("errorText") or "OK"
            self.step = "Target.disposeBrowserContext"
            params, session = {"browserContextId": self.context}, None
        else:
            return None
        timeout = NAVIGATE_TIMEOUT if self.step == "Page.navigate" else COMMAND_TIMEOUT
        self.deadline = time.monotonic() + timeout
        return self.step, params, session


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fresh", action="store_true", help="a browser per case")
    parser.add_argument("--parallel", type=int, default=PARALLEL)
    parser.add_argument("--trust", default="C,,", help="certutil trust flags")
    parser.add_argument(
        "--flag", action="append", default=[], help="one more chromium flag (e.g. a net log)"
    )
    parser.add_argument("--public-roots", help="PEM roots Chromium takes for its Root Store")
    parser.add_argument("--ct-log-list", help="v3 JSON log list Chromium takes for its own")
    parser.add_argument(
        "--ready-probe",
        help="with --public-roots: the id of a case Chromium accepts once they apply;"
        " it is loaded until then before any case is judged",
    )
    options = parser.parse_args()
    if not (bool(options.public_roots) == bool(options.ct_log_list) == bool(options.ready_probe)):
        parser.error("--public-roots, --ct-log-list and --ready-probe go together")
    if options.public_roots and options.fresh:
        parser.error("--fresh has no browser to wait for with --ready-probe")
    pki_metadata = (options.public_roots, options.ct_log_list) if options.public_roots else None
    FLAGS.extend(options.flag)
    cases = [json.loads(line) for line in sys.stdin if line.strip()]
    # A case marked "alone" (a regression case, whose CA names may repeat another case's)
    # gets a browser of its own; the others share one.
    if options.fresh:
        groups = [[case] for case in cases]
    else:
        shared = [case for case in cases if not case.get("alone")]
        groups = [[case] for case in cases if case.get("alone")] + ([shared] if shared else [])
    for group in groups:
        browser = Browser(pki_metadata)
        try:
            browser.trust(group, options.trust)
            browser.start({case["server_name"] for case in group})
            probe = [case for case in group if case["id"] == options.ready_probe]
            if pki_metadata:
                if not probe:
                    raise DriverError(f"no case {options.ready_probe} to probe with")
                browser.wait_ready(probe[0])
            answered = set()
            try:
                for case, result in browser.judge(group, options.parallel):
                    answered.add(case["id"])
                    answer = {"id": case["id"], "result": result}
                    if case["id"] in browser.refused:
                        answer["raw"] = browser.refused[case["id"]]
                    print(json.dumps(answer), flush=True)
            except DriverError as error:
                for case in group:
                    if case["id"] not in answered:
                        print(json.dumps({"id": case["id"], "result": f"ERROR: {error}"}), flush=True)
        except DriverError as error:
            for case in group:
                print(json.dumps({"id": case["id"], "result": f"ERROR: {error}"}), flush=True)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
