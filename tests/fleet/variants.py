"""Fleet hosts that ask for secrets, for the tests of perflab's credentials.

They differ from the other hosts only in what their sshd is told: the password
host sees a test /etc/shadow (bind-mounted for that sshd alone) and accepts
passwords; the sudo host puts fake ``id`` (uid 1000) and ``sudo`` programs first
on PATH; the passphrase host trusts only a key that is encrypted.
"""

from __future__ import annotations

import os
import shlex
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
        hashed = subprocess.run(
            ["openssl", "passwd", "-6", SSH_PASSWORD], check=True, capture_output=True, text=True
        ).stdout.strip()
        lines = [
            f"root:{hashed}:" + ":".join(line.split(":")[2:]) if line.startswith("root:") else line
            for line in Path("/etc/shadow").read_text().splitlines()
        ]
        shadow.write_text("\n".join(lines) + "\n")
        shadow.chmod(0o600)
    return fleet.host(
        "cred-password",
        overlays={"/etc/shadow": shadow},
        sshd_config=(
            "AuthenticationMethods any\nPasswordAuthentication yes\nPermitRootLogin yes\n"
        ),
    )


#: sudo(8) where perflab depends on its behaviour: ``-n`` never asks; ``-S`` prints the ``-p``
#: prompt on stderr and reads the password from stdin (three tries); a good password leaves
#: a timestamp tied to the parent process and its start time, as sudo keeps it without a
#: terminal, and that timestamp spares later calls from the same parent the question;
#: ``-u USER`` runs the command as USER (how: RUNAS). Its arguments are logged.
FAKE_SUDO = """#!/bin/sh
echo "$*" >> {log}
ask=; user=root; prompt="[sudo] password for $(id -un): "
while [ $# -gt 0 ]; do
  case "$1" in
    -n) ask=never; shift;;
    -S) ask=stdin; shift;;
    -p) prompt=$2; shift 2;;
    -u) user=$2; shift 2;;
    -v|-H|-E) shift;;
    --) shift; break;;
    -*) echo "sudo: unknown option $1" >&2; exit 1;;
    *) break;;
  esac
done
ticket={tickets}/$PPID-$(cut -d' ' -f22 /proc/$PPID/stat)
if [ ! -f "$ticket" ]; then
  [ "$ask" = stdin ] || {{ echo "sudo: a password is required" >&2; exit 1; }}
  tries=0
  while :; do
    printf '%s' "$prompt" >&2
    IFS= read -r pw || {{ echo "sudo: no password was provided" >&2; exit 1; }}
    [ "$pw" = {password} ] && break
    tries=$((tries + 1))
    [ $tries -lt 3 ] || {{ echo "sudo: 3 incorrect password attempts" >&2; exit 1; }}
    echo "Sorry, try again." >&2
  done
  touch "$ticket"
fi
[ $# -gt 0 ] || exit 0
{runas}
"""
#: RUNAS for a login user who is really root: any user is one runuser away
RUNAS_ROOT = 'if [ "$user" = root ]; then exec "$@"; fi\nexec runuser -u "$user" -- "$@"'
#: RUNAS for a real non-root login user: a user namespace maps them to root (or to USER's
#: uid), so commands see uid 0 without any power over this shared machine
RUNAS_USERNS = (
    'if [ "$user" = root ]; then exec unshare -r -- "$@"; fi\n'
    'exec unshare --map-user="$(id -u "$user")" --map-group="$(id -g "$user")" '
    '-- "$@"'
)


def write_fake_sudo(
    folder: Path, runas: str, password: str = SUDO_PASSWORD, seen_as: Path | None = None
) -> Path:
    """``folder/sudo`` (see FAKE_SUDO), logging to ``folder/sudo.log``, its timestamps in
    ``folder/tickets/`` (``seen_as``: where the host's processes see ``folder``)."""
    inside = seen_as or folder
    (folder / "tickets").mkdir(parents=True, exist_ok=True)
    (folder / "tickets").chmod(0o777)
    (folder / "sudo.log").touch()
    (folder / "sudo.log").chmod(0o666)
    sudo = folder / "sudo"
    sudo.write_text(
        FAKE_SUDO.format(
            log=inside / "sudo.log",
            tickets=inside / "tickets",
            password=shlex.quote(password),
            runas=runas,
        )
    )
    sudo.chmod(0o755)
    return sudo


def sudo_host(fleet: Fleet) -> tuple[FleetHost, Path]:
    """A host where `id -u` says 1000 and `sudo` wants SUDO_PASSWORD (see FAKE_SUDO)."""
    folder = fleet.directory / "sudo-host-bin"
    if not folder.exists():
        folder.mkdir()
        (folder / "id").write_text(
            '#!/bin/sh\n[ "$1" = -u ] && { echo 1000; exit 0; }\nexec /usr/bin/id "$@"\n'
        )
        (folder / "id").chmod(0o755)
        write_fake_sudo(folder, RUNAS_ROOT)
    host = fleet.host(
        "cred-sudo",
        sshd_config=(
            f"SetEnv SHLVL=1 PATH={folder}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
            "/sbin:/bin\n"
        ),
    )
    _forget(folder)
    return host, folder


def _forget(folder: Path) -> None:
    """A fresh start for a fake sudo: no timestamps, an empty log."""
    for ticket in (folder / "tickets").iterdir():
        ticket.unlink()
    (folder / "sudo.log").write_text("")


#: the non-root login user of become_host (a uid no account of this machine has)
BECOME_USER, BECOME_UID = "perflab", 4242


def become_host(fleet: Fleet) -> tuple[FleetHost, Path]:
    """A host whose login user BECOME_USER (uid BECOME_UID) is really not root, and whose
    sudo wants SUDO_PASSWORD (FAKE_SUDO; "root" is a user namespace, see RUNAS_USERNS).

    Its sshd alone sees the account (passwd, group and shadow files bind-mounted for it)
    and a /home holding the user's home (with authorized_keys) and ``bin/`` (the sudo;
    ``bin/sudo.log``). Returns the host and that /home as this machine sees it.
    """
    home_root = fleet.directory / "become-home"
    if not home_root.exists():
        _build_become_home(fleet, home_root)
    host = fleet.host(
        "become",
        sshd_config=(
            "AuthorizedKeysFile %h/.ssh/authorized_keys\n"
            "SetEnv SHLVL=1 PATH=/home/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin\n"
        ),
        overlays={
            "/home": home_root,
            **{
                f"/etc/{name}": fleet.directory / f"become-{name}"
                for name in ("passwd", "group", "shadow")
            },
        },
    )
    host.user = BECOME_USER
    _forget(home_root / "bin")
    return host, home_root


def _build_become_home(fleet: Fleet, home_root: Path) -> None:
    uid = BECOME_UID
    entries = {
        "passwd": f"{BECOME_USER}:x:{uid}:{uid}:perflab fleet:/home/{BECOME_USER}:/bin/sh",
        "group": f"{BECOME_USER}:x:{uid}:",
        "shadow": f"{BECOME_USER}:*:19000:0:99999:7:::",
    }
    for name, line in entries.items():
        copy = fleet.directory / f"become-{name}"
        copy.write_text(Path(f"/etc/{name}").read_text() + line + "\n")
        copy.chmod(0o640 if name == "shadow" else 0o644)
    home = home_root / BECOME_USER
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text(fleet.client_key.public + "\n")
    for path in (home, home / ".ssh", home / ".ssh" / "authorized_keys"):
        os.chown(path, uid, uid)
    home_root.chmod(0o755)
    (home_root / "bin").mkdir()
    write_fake_sudo(home_root / "bin", RUNAS_USERNS, seen_as=Path("/home/bin"))


def passphrase_host(fleet: Fleet) -> tuple[FleetHost, Path]:
    """A host that trusts only a key encrypted with PASSPHRASE."""
    key_file = fleet.directory / "encrypted_key"
    if not key_file.exists():
        key = Ed25519PrivateKey.generate()
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.BestAvailableEncryption(PASSPHRASE.encode()),
            )
        )
        key_file.chmod(0o600)
        public = (
            key.public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            .decode()
        )
        (fleet.directory / "encrypted_key_authorized").write_text(public + " encrypted\n")
    authorized = fleet.directory / "encrypted_key_authorized"
    return fleet.host("cred-passphrase", sshd_config=f"AuthorizedKeysFile {authorized}\n"), key_file
