"""Host key files: fingerprints, lookups (hashed, ports, patterns), pinning, verification.

``ssh-keygen`` (openssh-client) is the oracle for fingerprints and hashed names.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from perflab.errors import HostError
from perflab.transport.hostkeys import (
    HostKey,
    check_host_key,
    forget_host_key,
    host_entry,
    known_host_key,
    known_keys,
    perflab_known_hosts,
    pin_host_key,
    trust_host_key,
)
from tests.fleet.keys import generate

needs_keygen = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed"
)


@pytest.fixture
def keys(tmp_path: Path) -> list[HostKey]:
    """Two distinct ed25519 public keys."""
    return [HostKey.from_line(generate(tmp_path / f"k{i}", f"k{i}").public) for i in range(2)]


class TestHostKey:
    @needs_keygen
    def test_fingerprint_matches_ssh_keygen(self, tmp_path: Path) -> None:
        """The SHA256 fingerprint is exactly what ``ssh-keygen -lf`` prints."""
        pair = generate(tmp_path / "k", "c")
        printed = subprocess.run(
            ["ssh-keygen", "-lf", f"{pair.path}.pub"], capture_output=True, text=True, check=True
        ).stdout.split()[1]
        assert HostKey.from_line(pair.public).fingerprint == printed
        assert str(HostKey.from_line(pair.public)) == f"ssh-ed25519 {printed}"

    def test_bad_line(self) -> None:
        """A line that is not a public key is a ValueError."""
        with pytest.raises(ValueError, match="not a public key line"):
            HostKey.from_line("garbage")


class TestHostEntry:
    def test_port_22_is_bare(self) -> None:
        """Port 22 files the bare name, others ``[host]:port`` (OpenSSH's convention)."""
        assert host_entry("10.0.0.1") == "10.0.0.1"
        assert host_entry("10.0.0.1", 2222) == "[10.0.0.1]:2222"

    def test_default_location(self, monkeypatch, tmp_path: Path) -> None:
        """perflab's own file lives in $PERFLAB_HOME."""
        monkeypatch.setenv("PERFLAB_HOME", str(tmp_path))
        assert perflab_known_hosts() == tmp_path / "known_hosts"


class TestKnownKeys:
    def test_lookup_by_name_and_port(self, keys, tmp_path: Path) -> None:
        """Entries are found by name, ``[name]:port``, lists and wildcards; not by others."""
        file = tmp_path / "kh"
        file.write_text(
            f"# comment\n\nother,10.0.0.9 {keys[0].key_type} {keys[0].base64}\n"
            f"[10.0.0.9]:2222 {keys[1].key_type} {keys[1].base64}\n"
            f"10.1.*,!10.1.0.5 {keys[1].key_type} {keys[1].base64}\n"
        )
        assert known_host_key(file, "10.0.0.9") == keys[0]
        assert known_host_key(file, "10.0.0.9", 2222) == keys[1]
        assert known_host_key(file, "10.1.2.3") == keys[1]
        assert known_host_key(file, "10.1.0.5") is None
        assert known_host_key(file, "10.0.0.8") is None
        assert known_host_key(tmp_path / "missing", "10.0.0.9") is None

    @needs_keygen
    def test_hashed_names(self, keys, tmp_path: Path) -> None:
        """Hashed host names (``ssh-keygen -H``, HashKnownHosts) are matched."""
        file = tmp_path / "kh"
        file.write_text(
            f"10.0.0.9 {keys[0].key_type} {keys[0].base64}\n"
            f"[10.0.0.9]:2222 {keys[1].key_type} {keys[1].base64}\n"
        )
        subprocess.run(["ssh-keygen", "-H", "-f", str(file)], capture_output=True, check=True)
        assert "10.0.0.9" not in file.read_text()
        assert known_host_key(file, "10.0.0.9") == keys[0]
        assert known_host_key(file, "10.0.0.9", 2222) == keys[1]

    def test_revoked_marker(self, keys, tmp_path: Path) -> None:
        """A key under ``@revoked`` is refused even when also listed as known."""
        file = tmp_path / "kh"
        file.write_text(
            f"h {keys[0].key_type} {keys[0].base64}\n"
            f"@revoked h {keys[0].key_type} {keys[0].base64}\n"
        )
        assert [k.revoked for k in known_keys([file], "h")] == [False, True]
        with pytest.raises(HostError, match="REVOKED"):
            check_host_key("r1", "h", 22, keys[0], [file])


class TestPin:
    def test_pin_is_private_and_idempotent(self, keys, tmp_path: Path) -> None:
        """Pinning creates the file 0600 (directory 0700) and does not duplicate lines."""
        file = tmp_path / "home" / "known_hosts"
        assert pin_host_key(file, "10.0.0.9", 2222, keys[0]) is True
        assert pin_host_key(file, "10.0.0.9", 2222, keys[0]) is False
        assert file.read_text() == f"[10.0.0.9]:2222 {keys[0].key_type} {keys[0].base64}\n"
        assert file.stat().st_mode & 0o777 == 0o600
        assert file.parent.stat().st_mode & 0o777 == 0o700

    def test_pin_refuses_a_changed_key_unless_replacing(self, keys, tmp_path: Path) -> None:
        """A different key of the same type is not pinned beside the old one silently."""
        file = tmp_path / "known_hosts"
        file.write_text(f"other {keys[1].key_type} {keys[1].base64}\n")
        pin_host_key(file, "h", 22, keys[0])
        with pytest.raises(HostError, match="CHANGED"):
            pin_host_key(file, "h", 22, keys[1])
        assert pin_host_key(file, "h", 22, keys[1], replace=True)
        assert known_host_key(file, "h") == keys[1]
        assert known_host_key(file, "other") == keys[1]

    def test_forget(self, keys, tmp_path: Path) -> None:
        """forget_host_key drops exactly that host's lines."""
        file = tmp_path / "known_hosts"
        pin_host_key(file, "h", 22, keys[0])
        pin_host_key(file, "g", 22, keys[1])
        assert forget_host_key(file, "h") == 1
        assert known_host_key(file, "h") is None
        assert known_host_key(file, "g") == keys[1]


class TestCheckHostKey:
    def test_known_passes_unknown_and_changed_refused(self, keys, tmp_path: Path) -> None:
        """Exactly the pinned key passes; unknown and changed keys are distinct errors."""
        file = tmp_path / "known_hosts"
        pin_host_key(file, "h", 22, keys[0])
        check_host_key("r1", "h", 22, keys[0], [file])
        with pytest.raises(HostError, match=r"^r1: host key of host h has CHANGED") as changed:
            check_host_key("r1", "h", 22, keys[1], [file])
        assert keys[0].fingerprint in str(changed.value)
        assert keys[1].fingerprint in str(changed.value)
        with pytest.raises(HostError, match="is not known") as unknown:
            check_host_key("r1", "g", 22, keys[1], [file])
        assert keys[1].fingerprint in str(unknown.value)

    def test_any_listed_file_counts(self, keys, tmp_path: Path) -> None:
        """A key pinned in the user's ~/.ssh/known_hosts (second file) is accepted."""
        user_file = tmp_path / "user_known_hosts"
        pin_host_key(user_file, "h", 22, keys[0])
        check_host_key("r1", "h", 22, keys[0], [tmp_path / "perflab_known_hosts", user_file])


class TestTrustHostKey:
    def test_unknown_needs_accept_new(self, keys, tmp_path: Path) -> None:
        """An unknown key is refused without --accept-new-host-key, pinned with it."""
        file = tmp_path / "known_hosts"
        with pytest.raises(HostError, match="is not known"):
            trust_host_key("r1", "h", 22, keys[0], known_hosts=file)
        assert not file.exists()
        assert trust_host_key("r1", "h", 22, keys[0], known_hosts=file, accept_new=True) == "pinned"
        assert trust_host_key("r1", "h", 22, keys[0], known_hosts=file) == "known"

    def test_known_in_user_file_is_copied(self, keys, tmp_path: Path) -> None:
        """A key the user's ~/.ssh/known_hosts already trusts is pinned for perflab too."""
        user_file, file = tmp_path / "user", tmp_path / "known_hosts"
        pin_host_key(user_file, "h", 22, keys[0])
        assert (
            trust_host_key("r1", "h", 22, keys[0], known_hosts=file, others=[user_file]) == "known"
        )
        assert known_host_key(file, "h") == keys[0]

    def test_changed_never_accepted(self, keys, tmp_path: Path) -> None:
        """Even with accept_new, a CHANGED key is refused (remove the old line by hand)."""
        file = tmp_path / "known_hosts"
        pin_host_key(file, "h", 22, keys[0])
        with pytest.raises(HostError, match="CHANGED"):
            trust_host_key("r1", "h", 22, keys[1], known_hosts=file, accept_new=True)
