"""A third-party plugin for mtrun in one hook."""

from typing import Any


def threaded_order_cli_report_summary(summary: dict[str, Any]) -> str:
    """Add one line to the summary; pluggy passes only the arguments named here."""
    return f"hello from hello-plugin: {len(summary['ran'])} tasks ran"
