"""The one configuration object: read once from the environment, passed everywhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from platformdirs import user_cache_dir

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """Run-time settings of lenswise. Build with :meth:`from_env`; override with :meth:`with_`."""

    home: Path = field(default_factory=lambda: Path(user_cache_dir("lenswise")))
    """Where indexes, the fetched-page cache and the SQLite state live (``LENSWISE_HOME``)."""
    source: str = "builtin"
    """Corpus source: ``builtin``, ``fetched`` or a local path (``LENSWISE_CORPUS``)."""
    model: str = "extractive"
    """Answer model: ``extractive`` or an ``init_chat_model`` spec (``LENSWISE_MODEL``)."""
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    """Sentence-transformers name/path, or ``bedrock:<model-id>`` (``LENSWISE_EMBEDDING_MODEL``)."""
    lens: str = "generative-ai"
    """Lens slug used when a source holds several lenses and for ``corpus fetch``."""
    docs_base_url: str = "https://docs.aws.amazon.com/wellarchitected/latest"
    """Root of the official docs site (``LENSWISE_DOCS_BASE_URL``)."""
    region: str | None = None
    """AWS Region for Bedrock (``LENSWISE_REGION``; else the standard AWS chain decides)."""
    k: int = 8
    """Passages retrieved per query by the agent."""
    timeout_s: float = 60.0
    """Wall-clock limit of one agent run (``LENSWISE_TIMEOUT``)."""
    recursion_limit: int = 25
    """LangGraph super-step limit of one agent run."""
    max_upload_bytes: int = 10 * 1024 * 1024
    """Largest diagram or IaC file accepted (``LENSWISE_MAX_UPLOAD_BYTES``)."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Read the ``LENSWISE_*`` variables; explicit non-None ``overrides`` win."""
        env = dict(os.environ if env is None else env)
        values: dict = {}
        if env.get("LENSWISE_HOME"):
            values["home"] = Path(env["LENSWISE_HOME"]).expanduser()
        for key, name in (
            ("source", "LENSWISE_CORPUS"),
            ("model", "LENSWISE_MODEL"),
            ("embedding_model", "LENSWISE_EMBEDDING_MODEL"),
            ("docs_base_url", "LENSWISE_DOCS_BASE_URL"),
            ("region", "LENSWISE_REGION"),
        ):
            if env.get(name):
                values[key] = env[name]
        if env.get("LENSWISE_TIMEOUT"):
            values["timeout_s"] = float(env["LENSWISE_TIMEOUT"])
        if env.get("LENSWISE_MAX_UPLOAD_BYTES"):
            values["max_upload_bytes"] = int(env["LENSWISE_MAX_UPLOAD_BYTES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> Settings:
        """Return a copy with ``changes`` applied (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def state_db(self) -> Path:
        """SQLite file holding conversation threads and feedback."""
        return self.home / "state.sqlite"
