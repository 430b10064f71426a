"""Certificates, made by trustme at run time (no key is ever committed).

One session CA and a leaf for every loopback name a client may use. The CA's PEM
is written to a temporary folder, because most clients take a CA *file*. The folder is
private (0700, made by ``mkdtemp``), every file in it 0600 (``private_file``: a client
key among them), and ``Certs.remove`` deletes it when the servers stop. Under pytest it
sits in the run's private folder, which the controller removes at the end of the run
even when a worker crashed.
"""

from __future__ import annotations

import os
import shutil
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
        self.load_chain(ctx, self.leaf.private_key_and_cert_chain_pem.bytes())
        return ctx

    def load_chain(self, ctx: ssl.SSLContext, chain_pem: bytes) -> None:
        """Load a key and its chain (PEM) into ``ctx``: ssl reads them from files only, so
        through a file in the private folder (0600), removed at once."""
        fd, path = tempfile.mkstemp(suffix=".pem", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(chain_pem)
            ctx.load_cert_chain(path)
        finally:
            os.unlink(path)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file only its owner can read (0600 whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def make_certs(parent: Path | None = None) -> Certs:
    """The session CA and leaf; the CA file goes to a new private folder (under ``parent``)."""
    folder = Path(tempfile.mkdtemp(prefix="clientmatrix-certs-", dir=parent))
    ca = trustme.CA()
    leaf = ca.issue_cert(*LOOPBACK_NAMES)
    private_file(folder / "ca.pem", ca.cert_pem.bytes())
    return Certs(ca=ca, leaf=leaf, folder=folder)
