"""The package surface: every public name resolves, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import perflab.stats


class TestPublicNames:
    @pytest.mark.parametrize("name", perflab.stats.__all__)
    def test_every_name_resolves(self, name: str) -> None:
        """Each name in __all__ is importable from perflab.stats."""
        assert getattr(perflab.stats, name) is not None

    def test_unknown_name_is_an_attribute_error(self) -> None:
        """A typo is a clear AttributeError."""
        with pytest.raises(AttributeError, match="no attribute 'compare_al'"):
            perflab.stats.compare_al  # noqa: B018

    def test_import_does_not_load_scipy(self) -> None:
        """Importing the package and the threshold parser does not import scipy (slow start)."""
        code = (
            "import sys, perflab.stats; from perflab.stats import parse_quantity; "
            "print('scipy.stats' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "False"
