"""TLS: trust, names, validity, chains, versions, SNI and ALPN, client certificates.

Each row goes to a TLS server kind of ``servers.tls`` (``origin="https-expired"``), whose
certificates trustme makes at run time. The client is told to trust the run's CA the way
its documentation says (``Call(trust="ca")``; the cell's options record how), except
where the row is about the library's defaults. A refusal is graded on what reached the
server (nothing may) and shows the error kind, so the matrix says which libraries tell
their caller *why* TLS failed: ``tls-untrusted``, ``tls-hostname``, ``tls-expired`` or
``tls-other``.

RFC 9110 §4.3.4: "If the certificate is not valid for the target URI's origin, a user
agent MUST either obtain confirmation from the user before proceeding (see Section 3.5)
or terminate the connection with a bad certificate error."
"""

from __future__ import annotations

from typing import Any

from model.cell import Call, Observation, TLSSeen
from model.checks import outcome, status_seen
from model.scenario import Check, Result, Scenario, bad
from model.script import Reply
from servers.tls import CLIENT_IDENTITY

OK = b"ok"
TRUSTED = Call("GET", trust="ca")
CLIENT = ("{client_cert}", "{client_key}")


def tls_seen(obs: Observation) -> TLSSeen | None:
    """What the TLS server saw of the first request's connection (servers.tls)."""
    return obs.sent[0].tls if obs.sent else None


def how(obs: Observation) -> str:
    """The options the adapter used, in the library's own words (no paths)."""
    return ", ".join(f"{k}={v}" for k, v in obs.options.items()) or "library defaults"


def refuses(obs: Observation) -> Result:
    """The client ends the connection before any request is sent; the kind says why.

    RFC 9110 §4.3.4: "... or terminate the connection with a bad certificate error."
    """
    if obs.sent:
        return bad(f"request sent; {outcome(obs)}")
    if obs.error is None:
        return bad(outcome(obs))
    return Result(True, f"refused: {outcome(obs)}")


def works(version: str | None = None, client_cert: str | None = None, say_how: bool = False) -> Check:
    """The exchange completes: 200 with the body, over ``version``, with ``client_cert`` seen."""

    def check(obs: Observation) -> Result:
        seen = tls_seen(obs) or {}
        good = status_seen(obs) == 200 and obs.got is not None and obs.got.body == OK
        summary = outcome(obs)
        if version is not None:
            good = good and seen.get("version") == version
            summary += f" over {seen.get('version')}" if seen else ""
        if client_cert is not None:
            presented = seen.get("client_cert")
            good = good and presented == client_cert
            summary += ", client certificate presented" if presented == client_cert else ", no client certificate"
        if say_how:
            good = good and bool(obs.options)
            summary += f"; {how(obs)}"
        return Result(good, summary)

    return check


def sni_is(expected: str | None) -> Check:
    """The server_name the ClientHello carried (RFC 6066 §3)."""

    def check(obs: Observation) -> Result:
        seen = tls_seen(obs)
        if seen is None:
            return bad(f"no request reached the server; {outcome(obs)}")
        sni = seen.get("sni")
        return Result(sni == expected, f"SNI {sni!r}" if sni else "no SNI")

    return check


def offered(field: str, label: str) -> Check:
    """INFO: what the ClientHello offered in ``field`` (a list), in words."""

    def check(obs: Observation) -> Result:
        seen = tls_seen(obs)
        if seen is None:
            return bad(f"no request reached the server; {outcome(obs)}")
        values = seen.get(field) or []
        return Result(True, f"{label}: {', '.join(values)}" if values else f"no {label}")

    return check


def env_trust(variable: str) -> Check:
    """INFO: with only ``variable`` naming our CA, is the server trusted?"""

    def check(obs: Observation) -> Result:
        if status_seen(obs) == 200:
            return Result(True, f"{variable} used: {outcome(obs)}")
        return Result(True, f"{variable} not used: {outcome(obs)}")

    return check


def row(id: str, title: str, spec: str, level: str, check: Check, origin: str,
        request: Call = TRUSTED, **kw: Any) -> Scenario:
    """One TLS row: a GET to a TLS server kind, answered 200 ``ok`` when it gets through."""
    return Scenario(f"tls.{id}", title, spec, level, check, request, Reply(200, body=OK),  # type: ignore[arg-type]
                    origin=origin, security=True, **kw)


SCENARIOS = [
    row("trusted-ca", "Our CA, trusted the way the library documents: works, and how is recorded",
        "RFC 9110 §4.3.4", "MUST", works(say_how=True), "https-hello"),
    row("default-untrusted", "Library defaults against a server of our CA: verification must fail",
        "RFC 9110 §4.3.4", "MUST", refuses, "https-hello", Call("GET")),
    # RFC 6125 §6.4.4 / RFC 9110 §4.3.4: "the client MUST verify the service identity".
    row("hostname-mismatch", "The certificate names wrong.example, the URL localhost: refused",
        "RFC 6125 §6", "MUST", refuses, "https-wrong-host"),
    # RFC 5280 §4.1.2.5: the validity period is "the time interval during which the CA
    # warrants that it will maintain information about the status of the certificate".
    row("expired", "A leaf whose notAfter is past: refused", "RFC 5280 §4.1.2.5", "MUST", refuses,
        "https-expired"),
    row("not-yet-valid", "A leaf whose notBefore is in the future: refused", "RFC 5280 §4.1.2.5", "MUST",
        refuses, "https-not-yet-valid"),
    row("self-signed-leaf", "A self-signed end-entity certificate (not from our CA): refused",
        "RFC 5280 §6.1", "MUST", refuses, "https-self-signed"),
    row("unknown-ca", "A leaf from a second CA the client was not told to trust: refused",
        "RFC 5280 §6.1", "MUST", refuses, "https-other-ca"),
    # RFC 8446 §4.4.2: "The sender's certificate MUST come in the first CertificateEntry in
    # the list. Each following certificate SHOULD directly certify the one immediately preceding it."
    row("untrusted-intermediate", "Leaf from an intermediate, sent without it (chain incomplete): refused",
        "RFC 8446 §4.4.2", "MUST", refuses, "https-leaf-only"),
    row("full-chain", "Leaf from an intermediate, sent with it: works with only the root trusted",
        "RFC 8446 §4.4.2", "MUST", works(), "https-full-chain"),
    # RFC 9110 §4.3.4: "if the host is a literal IP address (Section 4.3.5), the reference
    # identity is an IP-ID, otherwise the host is a name and the reference identity is a DNS-ID."
    row("ip-san", "Connect by IP to a leaf whose only SAN is that IP address: works",
        "RFC 9110 §4.3.4", "MUST", works(), "https-ip-only"),
    # RFC 8446 §9.2: "all implementations MUST support the use of the 'server_name'
    # extension with applications capable of using it."
    row("sni-sent", "Connect by name (localhost): the ClientHello carries that server name",
        "RFC 8446 §9.2", "MUST", sni_is("localhost"), "https-localhost"),
    # RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in 'HostName'."
    row("sni-ip-literal", "Connect by IP literal: no server name is sent", "RFC 6066 §3", "MUST",
        sni_is(None), "https-hello"),
    row("alpn-offered", "Which ALPN protocols the client offers (told to trust our CA)", "RFC 7301 §3.1",
        "INFO", offered("alpn_offered", "ALPN"), "https-hello"),
    row("versions-offered", "Which TLS versions the client offers (supported_versions)", "RFC 8446 §4.2.1",
        "INFO", offered("versions_offered", "versions"), "https-hello"),
    # RFC 9325 §3.1.1: "Implementations SHOULD support TLS 1.3".
    row("min-version", "The server allows only TLS 1.3: works", "RFC 9325 §3.1.1", "SHOULD",
        works("TLSv1.3"), "https-tls13"),
    # RFC 8996 §5: "Clients MUST NOT ... negotiate TLS 1.1" (§4: likewise TLS 1.0).
    row("legacy-version-refused", "The server offers only TLS 1.0 and 1.1: the client refuses",
        "RFC 8996 §4-5", "MUST", refuses, "https-legacy"),
    # RFC 8446 §4.4.2.4: a server that requires one may abort when the client sends no certificate.
    row("client-cert", "The server requires a client certificate: presented the documented way",
        "RFC 8446 §4.3.2", "MUST", works(client_cert=CLIENT_IDENTITY, say_how=True), "https-client-cert",
        Call("GET", trust="ca", client_cert=CLIENT)),
    row("env-ssl-cert-file", "SSL_CERT_FILE names our CA (set in the running process): trusted?",
        "OpenSSL SSL_CERT_FILE", "INFO", env_trust("SSL_CERT_FILE"), "https-hello", Call("GET"),
        env=(("SSL_CERT_FILE", "{ca_file}"),)),
    row("env-requests-ca-bundle", "REQUESTS_CA_BUNDLE names our CA (set in the running process): trusted?",
        "requests REQUESTS_CA_BUNDLE", "INFO", env_trust("REQUESTS_CA_BUNDLE"), "https-hello", Call("GET"),
        env=(("REQUESTS_CA_BUNDLE", "{ca_file}"),)),
    row("verify-disabled", "Verification turned off the documented way: an untrusted, misnamed server works",
        "RFC 9110 §4.3.4", "MUST", works(say_how=True), "https-wrong-host", Call("GET", trust="off")),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
