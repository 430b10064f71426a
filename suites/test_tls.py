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

import re
from typing import Any

from model.cell import Call, Observation, TLSSeen
from model.checks import outcome, status_seen
from model.scenario import Check, Checked, Result, Scenario, bad
from model.script import Reply
from model.wrong import answer, raised, request
from servers.tls import CLIENT_IDENTITY

OK = b"ok"
TRUSTED = Call("GET", trust="ca")
CLIENT = ("{client_cert}", "{client_key}")


def tls_seen(obs: Observation) -> TLSSeen | None:
    """What the TLS server saw of the first connection: the first request's, or the first
    ClientHello of the cell when no request got through (a failed handshake, ``Observation.hellos``)."""
    if obs.sent:
        return obs.sent[0].tls
    return obs.hellos[0] if obs.hellos else None


def how(obs: Observation) -> str:
    """The options the adapter used, in the library's own words (no paths)."""
    return ", ".join(f"{k}={v}" for k, v in obs.options.items()) or "library defaults"


def refusal(obs: Observation) -> Result:
    """The client ends the connection before any request is sent; the kind says why.

    RFC 9110 §4.3.4: "... or terminate the connection with a bad certificate error."
    """
    if obs.sent:
        return bad(f"request sent; {outcome(obs)}")
    if obs.error is None:
        return bad(outcome(obs))
    return Result(True, f"refused: {outcome(obs)}")


#: A request sent over TLS (what a refusal must prevent).
THROUGH = (request(tls={"sni": None, "version": "TLSv1.2"}),)
refuses = Checked(refusal, (answer(200, OK, sent=THROUGH), raised("http-status", sent=THROUGH)),
                  right=(raised("tls-untrusted", sent=()),))

#: What a client's own refusal of TLS 1.0/1.1 looks like in its error: the server's
#: protocol_version alert (it offered none of them), or its own refusal of the ServerHello.
VERSION_REFUSED = re.compile(r"(?i)alert protocol version|unsupported protocol|no protocols available|"
                             r"wrong ssl version|version too low")


def offer(obs: Observation) -> str:
    """The versions the client's ClientHello offered, in words (or nothing when not seen)."""
    seen = tls_seen(obs)
    versions = (seen or {}).get("versions_offered")
    return f" (offered {', '.join(versions)})" if versions else ""


def version_refusal(obs: Observation) -> Result:
    """RFC 8996 §5: "Clients MUST NOT ... negotiate TLS 1.1". The server speaks only TLS 1.0
    and 1.1 and answers a ClientHello that offers neither with a protocol_version alert
    (servers.tls); a refusal counts when the error says the version was the reason, not
    when the connection just ended."""
    if obs.sent:
        version = (obs.sent[0].tls or {}).get("version")
        return bad(f"request sent over {version}; {outcome(obs)}")
    if obs.error is None:
        return bad(outcome(obs))
    if VERSION_REFUSED.search(obs.error.message):
        return Result(True, f"refused for the version{offer(obs)}: {outcome(obs)}")
    return bad(f"connection ended without a version refusal{offer(obs)}: {outcome(obs)}")


version_refused = Checked(version_refusal, (
    answer(200, OK, sent=(request(tls={"version": "TLSv1.1"}),)),
    raised("tls-other", sent=()),  # an EOF: "a wrong answer" names no version
))


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
        warned = obs.got.extra.get("warnings") if obs.got is not None else None
        if warned:
            summary += f"; warned: {', '.join(sorted({w.split(':', 1)[0] for w in warned}))}"
        return Result(good, summary)

    seen = {"version": "TLSv1.2" if version == "TLSv1.3" else version, "client_cert": None}
    wrong = [raised("tls-untrusted", sent=()), answer(200, b"", sent=(request(tls=seen),))]
    if version is not None or client_cert is not None:
        wrong.append(answer(200, OK, sent=(request(tls=seen),), options={"how": "x"}))
    return Checked(check, tuple(wrong))


def sni_is(expected: str | None) -> Check:
    """The server_name the ClientHello carried (RFC 6066 §3)."""

    def check(obs: Observation) -> Result:
        seen = tls_seen(obs)
        if seen is None:
            return bad(f"no request reached the server; {outcome(obs)}")
        sni = seen.get("sni")
        return Result(sni == expected, f"SNI {sni!r}" if sni else "no SNI")

    other = "127.0.0.1" if expected is not None else "localhost"
    return Checked(check, (answer(200, OK, sent=(request(tls={"sni": other}),)), raised("tls-other", sent=())))


def offered(field: str, label: str) -> Check:
    """INFO: what the ClientHello offered in ``field`` (a list), in words."""

    def check(obs: Observation) -> Result:
        seen = tls_seen(obs)
        if seen is None:
            return bad(f"no ClientHello reached the server; {outcome(obs)}")
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
    # RFC 5280 §6.1: a path is valid when it leads from a trust anchor to the leaf, each
    # certificate issued by the one before; RFC 9110 §4.3.4: "A user agent MUST ... verify".
    # Without the intermediate (and with only the root trusted) there is no such path.
    row("untrusted-intermediate", "Leaf from an intermediate, sent without it (chain incomplete): refused",
        "RFC 5280 §6.1", "MUST", refuses, "https-leaf-only"),
    # RFC 8446 §4.4.2: the server's list may carry the certificates "supporting" the leaf,
    # and the client builds the path from the trusted root through them (RFC 5280 §6.1).
    row("full-chain", "Leaf from an intermediate, sent with it: works with only the root trusted",
        "RFC 5280 §6.1", "MUST", works(), "https-full-chain"),
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
    # With the library's defaults (its own SSL context): the handshake then fails on our CA,
    # but the ClientHello was read before it (servers.tls), so what was offered is known.
    row("alpn-offered", "Which ALPN protocols the client offers with its defaults", "RFC 7301 §3.1",
        "INFO", offered("alpn_offered", "ALPN"), "https-hello", Call("GET")),
    row("alpn-offered-configured", "Which ALPN protocols the client offers when told to trust our CA "
        "(a context of the caller's, where the library takes one)", "RFC 7301 §3.1",
        "INFO", offered("alpn_offered", "ALPN"), "https-hello"),
    row("versions-offered", "Which TLS versions the client offers (supported_versions)", "RFC 8446 §4.2.1",
        "INFO", offered("versions_offered", "versions"), "https-hello"),
    # RFC 9325 §3.1.1: "Implementations SHOULD support TLS 1.3".
    row("min-version", "The server allows only TLS 1.3: works", "RFC 9325 §3.1.1", "SHOULD",
        works("TLSv1.3"), "https-tls13"),
    # RFC 8996 §5: "Clients MUST NOT ... negotiate TLS 1.1" (§4: likewise TLS 1.0).
    row("legacy-version-refused", "The server speaks only TLS 1.0 and 1.1: the client refuses for the version",
        "RFC 8996 §4-5", "MUST", version_refused, "https-legacy"),
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
    # The same variables set before the interpreter starts (a fresh one runs the call,
    # fixtures.fresh): what a library reads once, at import or start-up, sees them too.
    row("env-ssl-cert-file-at-start", "SSL_CERT_FILE names our CA, set before the process starts: trusted?",
        "OpenSSL SSL_CERT_FILE", "INFO", env_trust("SSL_CERT_FILE"), "https-hello", Call("GET", fresh=True),
        env=(("SSL_CERT_FILE", "{ca_file}"),)),
    row("env-requests-ca-bundle-at-start", "REQUESTS_CA_BUNDLE names our CA, set before the process starts: "
        "trusted?", "requests REQUESTS_CA_BUNDLE", "INFO", env_trust("REQUESTS_CA_BUNDLE"), "https-hello",
        Call("GET", fresh=True), env=(("REQUESTS_CA_BUNDLE", "{ca_file}"),)),
    row("verify-disabled", "Verification turned off the documented way: an untrusted, misnamed server works",
        "RFC 9110 §4.3.4", "MUST", works(say_how=True), "https-wrong-host",
        Call("GET", trust="off", record_warnings=True)),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
