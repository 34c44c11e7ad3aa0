"""Optional features and the pip extra that installs each: a missing one is one clear line.

A base install answers, searches and reviews; the UI, the MCP server, Bedrock (models,
embeddings, the WA Tool export) and the eval reports need an extra (``pyproject.toml``).
Every entry point of such a feature calls :func:`require_extra` first, so a user without the
extra reads which one to install instead of a traceback from deep inside an import.
"""

from __future__ import annotations

from importlib.util import find_spec

from corpus.errors import InputError

EXTRAS: dict[str, tuple[str, ...]] = {
    "ui": ("streamlit", "pandas", "altair"),
    "mcp": ("mcp", "mcp_types"),
    "bedrock": ("langchain_aws", "boto3", "botocore"),
    "eval": ("ranx", "matplotlib"),
}
"""Each extra and the modules that only it installs (the helpers they bring, such as anyio or
urllib3, may come with the base too, so they prove nothing)."""


class MissingExtra(InputError):
    """A feature was asked for whose extra is not installed (exit code 2)."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'lenswise[{extra}]'")
        self.extra = extra


def require_extra(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` unless every module of ``extra`` can be imported.

    Only looks the modules up (no import), so the check costs nothing when they are there.

    Args:
        extra: A key of :data:`EXTRAS`.
        feature: What the user asked for, as the message names it (``lenswise ui``...).
    """
    if not has_extra(extra):
        raise MissingExtra(feature, extra)


def has_extra(extra: str) -> bool:
    """Tell whether every module of ``extra`` (a key of :data:`EXTRAS`) can be imported."""
    return all(_installed(module) for module in EXTRAS[extra])


def _installed(module: str) -> bool:
    """Tell whether ``module`` can be found (a module set to None in sys.modules cannot)."""
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):  # a blocking finder, or a module without a spec
        return False
