"""Pin threaded-order to this distribution's own version, read from the one VERSION file."""

from __future__ import annotations

from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface


class AliasMetadataHook(MetadataHookInterface):
    """``threaded-order-core X`` installs exactly ``threaded-order X``, and nothing else."""

    def update(self, metadata: dict[str, Any]) -> None:
        metadata["dependencies"] = [f"threaded-order=={metadata['version']}"]
