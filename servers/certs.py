"""Certificates, made by trustme at run time (no key is ever committed).

One session CA and a leaf for every loopback name a client may use. The CA's PEM
is written to a temporary folder, because most clients take a CA *file*.
"""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass
class Certs:
    ca: trustme.CA
    leaf: trustme.LeafCert
    folder: Path

    @property
    def ca_file(self) -> str:
        return str(self.folder / "ca.pem")

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.leaf.configure_cert(ctx)
        return ctx


def make_certs() -> Certs:
    folder = Path(tempfile.mkdtemp(prefix="clientmatrix-certs-"))
    ca = trustme.CA()
    leaf = ca.issue_cert(*LOOPBACK_NAMES)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    return Certs(ca=ca, leaf=leaf, folder=folder)
