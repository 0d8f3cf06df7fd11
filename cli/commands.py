"""Registers every command on the app (the help screen and tests need them all)."""

from runbook_guard.cli.app import register_commands

register_commands()
