"""A third-party plugin for mtrun in one hook."""

from typing import Any


def threaded_order_cli_report_summary(summary: dict[str, Any]) -> str:
    """Add one line to the summary; pluggy passes only the arguments named here."""
    ran = len(summary["ran"])
    return f"hello from hello-plugin: {ran} task{'' if ran == 1 else 's'} ran"
