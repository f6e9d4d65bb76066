"""``python -m perflab``."""

from perflab.cli.main import main

main()
