"""TLS on the LAN: `strongroom tls init` makes an office CA and a server certificate; `serve --tls` serves
HTTPS that a client trusting only that CA accepts and signs in to (Secure cookies, HSTS); a client with
the default trust store refuses it; serving a network address without TLS is refused."""

from __future__ import annotations

import gc
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, ServerVerifier, Store, VerificationError

from tests.conftest import PASSPHRASE
from tests.web.conftest import add_users
from tests.web.test_serve_cmds import STRONGROOM, _free_port, _wait_for
from tests.web.test_upload_stream import Browser, trusting
from vault import Home
from web.app import create_app
from web.certificates import CertificateError, OfficeCertificates, issue, this_computer
from web.cli import main
from web.cli.serve_cmds import HANDSHAKE_TIMEOUT, office_server
from web.office import Office
from web.security import LOOPBACK_HOSTS
from web.settings import Settings
from web.unlock import write_secret_key

NAME = "office.test"  # the name managers type; reached here on loopback with SNI and Host set to it


@pytest.fixture
def strongroom(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
               home_path: Path) -> Callable[..., tuple[int, str]]:
    """Run the `strongroom` command line (main: errors as one sentence and an exit code) on the test home."""
    monkeypatch.delenv("STRONGROOM_PASSPHRASE", raising=False)
    monkeypatch.delenv("STRONGROOM_PASSPHRASE_FILE", raising=False)

    def run(*argv: str, passphrase: str | None = None) -> tuple[int, str]:
        if passphrase is not None:
            monkeypatch.setenv("STRONGROOM_PASSPHRASE", passphrase)
        with pytest.raises(SystemExit) as exited:
            main(["--home", str(home_path), *argv])
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out + captured.err
    return run


@pytest.fixture
def office_ca(home_path: Path) -> OfficeCertificates:
    return issue(home_path, [NAME], [], now=datetime.now(UTC))


@pytest.fixture
def tls_port(home: Home, office_ca: OfficeCertificates) -> Iterator[int]:
    """The real TLS server `serve --tls` runs (cheroot), on a loopback port, in a thread."""
    add_users(home)
    settings = Settings.load({"home": home.path}, environ={})
    app = create_app(Office(home, settings), secret_key=b"tls-test-secret-key-0123456789abc",
                     allowed_hosts=(*LOOPBACK_HOSTS, NAME), tls=True)
    srv = office_server(app, settings, host="127.0.0.1", port=0, tls=office_ca.server)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield srv.effective_port
    finally:
        srv.close()
        thread.join(timeout=10)


def test_a_client_trusting_only_the_office_ca_signs_in_with_secure_cookies_and_hsts(
        tls_port: int, office_ca: OfficeCertificates) -> None:
    browser = Browser(tls_port, host=NAME, connect=trusting(office_ca.ca_pem, tls_port, NAME))
    browser.login("anna")
    status, page = browser.request("GET", "/search")
    assert status == 200 and "anna" in page
    assert browser.headers is not None
    assert browser.headers["Strict-Transport-Security"] == "max-age=31536000"
    session = [c for c in browser.set_cookies if c.startswith("strongroom_session=")]
    assert session and all("; Secure" in c and "HttpOnly" in c for c in session), browser.set_cookies
    assert all("; Secure" in c for c in browser.set_cookies), browser.set_cookies  # the device cookie too


def test_no_hsts_for_localhost_over_tls(tls_port: int, office_ca: OfficeCertificates) -> None:
    """HSTS for localhost would make a browser force HTTPS on every other local server as well."""
    browser = Browser(tls_port, host="localhost", connect=trusting(office_ca.ca_pem, tls_port, "localhost"))
    assert browser.request("GET", "/login")[0] == 200
    assert browser.headers is not None and "Strict-Transport-Security" not in browser.headers


def test_a_client_with_the_default_trust_store_refuses_the_office_server(tls_port: int) -> None:
    context = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
            context.wrap_socket(raw, server_hostname=NAME)


def test_a_client_that_never_shakes_hands_holds_up_others_only_briefly(tls_port: int,
                                                                       office_ca: OfficeCertificates) -> None:
    """cheroot shakes hands in its accepting thread: a silent connection used to stall everyone for the
    30-second socket timeout; the handshake now has its own 5 seconds."""
    browser = Browser(tls_port, connect=trusting(office_ca.ca_pem, tls_port))
    with socket.create_connection(("127.0.0.1", tls_port), timeout=30):  # says nothing
        started = time.monotonic()
        assert browser.request("GET", "/login")[0] == 200
        waited = time.monotonic() - started
    assert waited < HANDSHAKE_TIMEOUT + 3, waited


def test_plain_http_to_the_tls_port_gets_no_page(tls_port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", tls_port, timeout=10)
    try:
        conn.request("GET", "/login", headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        status, body = response.status, response.read().decode("utf-8", "replace")
    except (ConnectionError, http.client.HTTPException):
        return  # the TLS listener hung up on plain text
    finally:
        conn.close()
    assert status == 400 and "csrf_token" not in body


def _strict_verifier(ca: Path, name: str) -> ServerVerifier:
    """The Web PKI's rules (cryptography's verifier, as strict as a browser's) with the office CA as the root."""
    root = x509.load_pem_x509_certificate(ca.read_bytes())
    return PolicyBuilder().store(Store([root])).time(datetime.now(UTC)).build_server_verifier(x509.DNSName(name))


def test_the_server_certificate_passes_browser_rules_and_the_ca_vouches_for_no_other_site(
        office_ca: OfficeCertificates) -> None:
    leaf = x509.load_pem_x509_certificate(office_ca.server.cert.read_bytes())
    _strict_verifier(office_ca.ca_pem, NAME).verify(leaf, [])
    # Whoever steals the CA key cannot impersonate a public site to a manager who installed the CA.
    ca_key = serialization.load_pem_private_key((office_ca.folder / "office-ca.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(office_ca.ca_pem.read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    rogue = (x509.CertificateBuilder().subject_name(x509.Name([]))
             .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
             .add_extension(x509.SubjectAlternativeName([x509.DNSName("bank.example")]), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
             .sign(ca_key, hashes.SHA256()))
    with pytest.raises(VerificationError):
        _strict_verifier(office_ca.ca_pem, "bank.example").verify(rogue, [])


def test_tls_init_prints_the_fingerprint_keeps_keys_private_and_keeps_the_ca(
        home_path: Path, strongroom: Callable[..., tuple[int, str]]) -> None:
    code, output = strongroom("tls", "init", "--name", NAME, "--address", "192.168.7.20")
    assert code == 0, output
    folder = home_path / "tls"
    der = (folder / "office-ca.crt").read_bytes()
    digest = hashlib.sha256(der).hexdigest().upper()
    assert ":".join(re.findall("..", digest)) in output  # what `certutil -hashfile ... SHA256` shows
    assert x509.load_der_x509_certificate(der) == x509.load_pem_x509_certificate((folder / "office-ca.pem").read_bytes())
    assert folder.stat().st_mode & 0o777 == 0o700
    for private in ("office-ca.key", "server.key"):
        assert (folder / private).stat().st_mode & 0o777 == 0o600
    san = x509.load_pem_x509_certificate((folder / "server.pem").read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [NAME, "localhost"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["192.168.7.20", "127.0.0.1", "::1"]

    code, output = strongroom("tls", "init", "--name", NAME, "--address", "192.168.7.21")  # a new DHCP lease
    assert code == 0 and "Kept the office CA" in output, output
    assert (folder / "office-ca.crt").read_bytes() == der  # managers need not install it again

    code, output = strongroom("tls", "init", "--name", "other.example", "--address", "192.168.7.20")
    assert code == 1
    assert "was not made for other.example" in output and "--new-ca" in output and "Traceback" not in output
    code, output = strongroom("tls", "init", "--name", "other.example", "--address", "192.168.7.20", "--new-ca")
    assert code == 0 and "Made a new office CA" in output
    assert (folder / "office-ca.crt").read_bytes() != der


def test_tls_init_without_names_covers_this_computer(home_path: Path) -> None:
    made = issue(home_path, *this_computer(), now=datetime.now(UTC))
    assert socket.gethostname().lower() in made.names and "localhost" in made.names
    assert "127.0.0.1" in map(str, made.addresses)


def test_tls_init_refuses_a_bad_name_in_one_sentence(home_path: Path,
                                                    strongroom: Callable[..., tuple[int, str]]) -> None:
    code, output = strongroom("tls", "init", "--name", "office pc")
    assert code == 1 and "is not a host name" in output and "Traceback" not in output
    with pytest.raises(CertificateError):
        issue(home_path, ["bad_name!"], [], now=datetime.now(UTC))


def test_serving_the_network_without_tls_is_refused_before_unlocking(
        strongroom: Callable[..., tuple[int, str]]) -> None:
    code, output = strongroom("serve", "--host", "0.0.0.0", "--allow-remote", "--no-watch")  # no passphrase
    assert code == 2
    assert "Serving 0.0.0.0 without TLS would send passwords and documents across the network" in output
    assert "add --tls" in output and "passphrase" not in output.lower()


def test_serve_tls_without_a_certificate_says_to_run_tls_init(strongroom: Callable[..., tuple[int, str]]) -> None:
    code, output = strongroom("serve", "--tls", "--no-watch")
    assert code == 1 and "There is no server certificate" in output and "run `strongroom tls init`" in output


def test_serve_refuses_a_key_that_is_not_the_certificates(home_path: Path, office_ca: OfficeCertificates,
                                                        strongroom: Callable[..., tuple[int, str]]) -> None:
    write_secret_key(Settings.load({"home": home_path}, environ={}))
    code, output = strongroom("serve", "--no-watch", "--port", str(_free_port()), "--cert", str(office_ca.server.cert),
                              "--key", str(office_ca.folder / "office-ca.key"), passphrase=PASSPHRASE)
    assert code == 1, output
    assert "cannot be used" in output and "key values mismatch" in output and "Traceback" not in output


def test_serve_tls_as_a_user_runs_it_with_the_office_own_certificate(home_path: Path, office_ca: OfficeCertificates,
                                                                   tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    cert, key = shutil.copy(office_ca.server.cert, own / "cert.pem"), shutil.copy(office_ca.server.key, own / "k.pem")
    write_secret_key(Settings.load({"home": home_path}, environ={}))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "STRONGROOM_PASSPHRASE": PASSPHRASE}
    proc = subprocess.Popen([*STRONGROOM, "--home", str(home_path), "serve", "--port", str(port), "--no-watch",
                             "--cert", str(cert), "--key", str(key)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _wait_for(proc, "Ctrl-C stops.")
        assert f"Strongroom is running at https://127.0.0.1:{port}" in lines
        # the certificate's names are the Host names the server answers to
        browser = Browser(port, host=NAME, connect=trusting(office_ca.ca_pem, port, NAME))
        assert browser.request("GET", "/login")[0] == 200
        assert browser.headers is not None and browser.headers["Strict-Transport-Security"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with pytest.raises(ssl.SSLCertVerificationError):
                ssl.create_default_context().wrap_socket(raw, server_hostname=NAME)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in out, out


# Both servers leave the socket that failed to bind to the garbage collector (a ResourceWarning).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("tls", [False, True], ids=["waitress", "cheroot-tls"])
def test_a_port_in_use_is_one_sentence_not_a_traceback(home_path: Path, office_ca: OfficeCertificates, tls: bool,
                                                       strongroom: Callable[..., tuple[int, str]]) -> None:
    write_secret_key(Settings.load({"home": home_path}, environ={}))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = strongroom("serve", "--no-watch", "--port", str(port), *(["--tls"] if tls else []),
                                  passphrase=PASSPHRASE)
    gc.collect()  # finalise the leaked socket here, under this test's filter, not in the middle of another test
    assert code == 1 and "(another program uses it): stop the other program or pass another --port" in output
