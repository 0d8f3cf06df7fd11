"""`python -m runbook_guard`."""

from runbook_guard.cli.app import main

main()
