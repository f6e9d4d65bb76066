"""Passwords in URLs are masked wherever a URL is shown."""

from __future__ import annotations

import pytest

from perflab import config
from perflab.errors import InputError
from perflab.store import open_store


class TestMaskUrl:
    @pytest.mark.parametrize(
        ("url", "shown"),
        [
            ("postgresql://lab:pw@db/perflab", "postgresql://lab:***@db/perflab"),
            ("redis://:pw@queue:6379/0", "redis://:***@queue:6379/0"),
            (
                "postgresql+psycopg://lab:p@ss/w:rd@db:5432/perflab",
                "postgresql+psycopg://lab:***@db:5432/perflab",
            ),
            (
                "postgresql://db/perflab?user=lab&password=pw&sslmode=require",
                "postgresql://db/perflab?user=lab&password=***&sslmode=require",
            ),
            ("redis://queue:6379/0?PASSWORD=pw", "redis://queue:6379/0?PASSWORD=***"),
            ("rediss://lab:pw@queue/0#frag", "rediss://lab:***@queue/0#frag"),
        ],
    )
    def test_masked(self, url: str, shown: str) -> None:
        """The password (in the user info, or a password-like query parameter) becomes ***;
        the rest of the URL stays as it was."""
        assert config.mask_url(url) == shown

    @pytest.mark.parametrize(
        "url",
        [
            "postgresql://lab@db/perflab",
            "redis://127.0.0.1:6379/0",
            "sqlite:////h/perflab.db",
            "sqlite:///:memory:",
        ],
    )
    def test_nothing_to_mask(self, url: str) -> None:
        """A URL without a password is shown as it is."""
        assert config.mask_url(url) == url

    def test_redact_is_mask_url(self) -> None:
        """``config.redact`` (the name the queue's code imports) masks the same way."""
        assert config.redact("redis://:pw@queue:6379/0") == "redis://:***@queue:6379/0"


class TestStoreErrors:
    def test_empty_user_password_not_printed(self) -> None:
        """A database URL with a password and no user name (``:pw@``) is masked in the
        store's errors too."""
        with pytest.raises(InputError) as caught:
            open_store("postgresql+psycopg://:hunter2@127.0.0.1:1/none")
        assert "hunter2" not in str(caught.value)
        assert "postgresql+psycopg://:***@127.0.0.1:1/none" in str(caught.value)
