"""Fleet hosts that ask for secrets, for the tests of perflab's credentials.

They differ from the other hosts only in what their sshd is told: the password
host sees a test /etc/shadow (bind-mounted for that sshd alone) and accepts
passwords; the sudo host puts fake ``id`` (uid 1000) and ``sudo`` programs first
on PATH; the passphrase host trusts only a key that is encrypted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.fleet.fleet import Fleet
from tests.fleet.host import FleetHost

SSH_PASSWORD = "fleet-Pw-7g2q"
SUDO_PASSWORD = "sudo-Pw-k41x"
PASSPHRASE = "key-Pp-93jd"


def password_host(fleet: Fleet) -> FleetHost:
    """A host whose root logs in with SSH_PASSWORD (its sshd reads a test /etc/shadow)."""
    shadow = fleet.directory / "shadow-password-host"
    if not shadow.exists():
        hashed = subprocess.run(["openssl", "passwd", "-6", SSH_PASSWORD], check=True,
                                capture_output=True, text=True).stdout.strip()
        lines = [f"root:{hashed}:" + ":".join(line.split(":")[2:])
                 if line.startswith("root:") else line
                 for line in Path("/etc/shadow").read_text().splitlines()]
        shadow.write_text("\n".join(lines) + "\n")
        shadow.chmod(0o600)
    return fleet.host("cred-password", overlays={"/etc/shadow": shadow}, sshd_config=(
        "AuthenticationMethods any\nPasswordAuthentication yes\nPermitRootLogin yes\n"))


def sudo_host(fleet: Fleet) -> tuple[FleetHost, Path]:
    """A host where `id -u` says 1000 and `sudo` wants SUDO_PASSWORD once (then a ticket)."""
    folder = fleet.directory / "sudo-host-bin"
    if not folder.exists():
        folder.mkdir()
        (folder / "id").write_text('#!/bin/sh\n[ "$1" = -u ] && { echo 1000; exit 0; }\n'
                                   'exec /usr/bin/id "$@"\n')
        (folder / "sudo").write_text(f"""#!/bin/sh
echo "$*" >> {folder}/sudo.log
case "$1" in
  -S) IFS= read -r pw; [ "$pw" = "{SUDO_PASSWORD}" ] && touch {folder}/ticket; exit 0;;
  -n) shift; [ -f {folder}/ticket ] || {{ echo "sudo: a password is required" >&2; exit 1; }}
      [ "$1" = -- ] && shift; exec "$@";;
esac
exit 1
""")
        for tool in ("id", "sudo"):
            (folder / tool).chmod(0o755)
    host = fleet.host("cred-sudo", sshd_config=(
        f"SetEnv SHLVL=1 PATH={folder}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
        "/sbin:/bin\n"))
    (folder / "ticket").unlink(missing_ok=True)
    (folder / "sudo.log").unlink(missing_ok=True)
    return host, folder


def passphrase_host(fleet: Fleet) -> tuple[FleetHost, Path]:
    """A host that trusts only a key encrypted with PASSPHRASE."""
    key_file = fleet.directory / "encrypted_key"
    if not key_file.exists():
        key = Ed25519PrivateKey.generate()
        key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(PASSPHRASE.encode())))
        key_file.chmod(0o600)
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
        (fleet.directory / "encrypted_key_authorized").write_text(public + " encrypted\n")
    authorized = fleet.directory / "encrypted_key_authorized"
    return fleet.host("cred-passphrase",
                      sshd_config=f"AuthorizedKeysFile {authorized}\n"), key_file
