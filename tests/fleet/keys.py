"""SSH keys for the fleet, generated in-process (ed25519, OpenSSH formats)."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    """A private key file (mode 0600) and its public line ``ssh-ed25519 AAAA... comment``."""

    path: Path
    public: str

    @property
    def fingerprint(self) -> str:
        """SHA256 fingerprint as ``ssh-keygen -l`` prints it."""
        blob = base64.b64decode(self.public.split()[1])
        return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")

    @property
    def key_type(self) -> str:
        return self.public.split()[0]

    @property
    def base64(self) -> str:
        return self.public.split()[1]


def generate(path: Path, comment: str) -> KeyPair:
    """Write a new ed25519 private key to ``path`` (0600) and ``path.pub``."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    public = f"{public} {comment}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    path.with_name(path.name + ".pub").write_text(public + "\n", encoding="utf-8")
    return KeyPair(path, public)
