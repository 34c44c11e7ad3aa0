"""The one configuration object: read once from the environment, checked, passed everywhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from platformdirs import user_cache_dir

from corpus.errors import InputError, check_int, check_number, check_text, shown

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
QUERY_ENCODERS = ("onnx", "sentence-transformers")
ENV = {
    "home": "LENSWISE_HOME",
    "source": "LENSWISE_CORPUS",
    "model": "LENSWISE_MODEL",
    "embedding_model": "LENSWISE_EMBEDDING_MODEL",
    "query_encoder": "LENSWISE_QUERY_ENCODER",
    "docs_base_url": "LENSWISE_DOCS_BASE_URL",
    "region": "LENSWISE_REGION",
    "timeout_s": "LENSWISE_TIMEOUT",
    "max_upload_bytes": "LENSWISE_MAX_UPLOAD_BYTES",
    "state_url": "LENSWISE_STATE_URL",
    "team": "LENSWISE_TEAM",
    "user_header": "LENSWISE_USER_HEADER",
    "user": "LENSWISE_USER",
    "mcp_tokens": "LENSWISE_MCP_TOKENS",
}
"""Environment variable of each setting that has one."""


@dataclass(frozen=True)
class Settings:
    """Run-time settings of lenswise. Build with :meth:`from_env`; override with :meth:`with_`.

    Every value is checked on creation: a wrong type or an out-of-range number raises
    :class:`~corpus.errors.InputError` naming the setting (and its environment variable).
    """

    home: Path = field(default_factory=lambda: Path(user_cache_dir("lenswise")))
    """Where indexes, the fetched-page cache and the SQLite state live (``LENSWISE_HOME``)."""
    source: str = "builtin"
    """Corpus source: ``builtin``, ``fetched`` or a local path (``LENSWISE_CORPUS``)."""
    model: str = "extractive"
    """Answer model: ``extractive`` or an ``init_chat_model`` spec (``LENSWISE_MODEL``)."""
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    """Sentence-transformers name/path, or ``bedrock:<model-id>`` (``LENSWISE_EMBEDDING_MODEL``)."""
    query_encoder: str = "onnx"
    """Query-time runtime of the embedding model: ``onnx`` (fast start; MiniLM, exported once
    into ``home``) or ``sentence-transformers`` (the reference) (``LENSWISE_QUERY_ENCODER``)."""
    lens: str = "generative-ai"
    """Lens slug used when a source holds several lenses and for ``corpus fetch``."""
    docs_base_url: str = "https://docs.aws.amazon.com/wellarchitected/latest"
    """Root of the official docs site (``LENSWISE_DOCS_BASE_URL``)."""
    region: str | None = None
    """AWS Region for Bedrock (``LENSWISE_REGION``; else the standard AWS chain decides)."""
    k: int = 8
    """Passages retrieved per query by the agent (1-100)."""
    timeout_s: float = 60.0
    """Wall-clock limit of one agent run, in seconds (``LENSWISE_TIMEOUT``; up to a day)."""
    recursion_limit: int = 25
    """LangGraph super-step limit of one agent run (1-1000)."""
    max_upload_bytes: int = 10 * 1024 * 1024
    """Largest diagram or IaC file accepted (``LENSWISE_MAX_UPLOAD_BYTES``; up to 1 GiB)."""
    state_url: str | None = None
    """``postgresql://...``: threads, feedback and checkpoints on a shared PostgreSQL server
    (``LENSWISE_STATE_URL``); None keeps them in one SQLite file under ``home``."""
    team: bool | None = None
    """Team mode: every request needs a user identity and sees only that user's threads
    (``LENSWISE_TEAM``: 1 or 0); None means on exactly when ``state_url`` is set."""
    user_header: str = "X-Amzn-Oidc-Identity"
    """HTTP header holding the user's identity, set by the trusted proxy in front of the UI
    (``LENSWISE_USER_HEADER``; the default is the one an AWS ALB with OIDC sets)."""
    user: str | None = None
    """The acting user of the command line in team mode (``LENSWISE_USER``)."""
    mcp_tokens: str | None = None
    """Bearer tokens of the MCP HTTP server as ``token=user`` pairs separated by commas
    (``LENSWISE_MCP_TOKENS``); required when it listens beyond loopback."""

    def __post_init__(self) -> None:
        if not isinstance(self.home, str | os.PathLike):
            raise InputError(f"{_label('home')} must be a folder path, not {shown(self.home)}")
        try:
            home = Path(self.home).expanduser()
        except RuntimeError:  # ~nosuchuser/x
            raise InputError(
                f"LENSWISE_HOME {self.home} names a user with no home folder: "
                "give a folder path instead"
            ) from None
        object.__setattr__(self, "home", home)
        _check_home(home)
        for name in ("source", "model", "embedding_model", "lens", "docs_base_url"):
            object.__setattr__(self, name, check_text(getattr(self, name), _label(name)))
        if self.query_encoder not in QUERY_ENCODERS:
            raise InputError(
                f"{_label('query_encoder')} must be one of {', '.join(QUERY_ENCODERS)}, "
                f"not {shown(self.query_encoder)}"
            )
        if not self.docs_base_url.startswith(("https://", "http://")):
            raise InputError(f"{_label('docs_base_url')} must be an http(s) URL")
        if self.region is not None:
            object.__setattr__(self, "region", check_text(self.region, _label("region")))
        check_int(self.k, "k", minimum=1, maximum=100)
        timeout = check_number(self.timeout_s, _label("timeout_s"), above=0, maximum=86400)
        object.__setattr__(self, "timeout_s", timeout)
        check_int(self.recursion_limit, "recursion_limit", minimum=1, maximum=1000)
        check_int(self.max_upload_bytes, _label("max_upload_bytes"), minimum=1, maximum=2**30)
        for name in ("state_url", "user", "mcp_tokens"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_text(getattr(self, name), _label(name)))
        if self.state_url and not self.state_url.startswith(("postgresql://", "postgres://")):
            raise InputError(
                f"{_label('state_url')} must be a postgresql:// URL, not {shown(self.state_url)}"
            )
        if self.team is None:
            object.__setattr__(self, "team", self.state_url is not None)
        if not isinstance(self.team, bool):
            raise InputError(f"{_label('team')} must be 1 or 0, not {shown(self.team)}")
        object.__setattr__(self, "user_header", check_text(self.user_header, _label("user_header")))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Read the ``LENSWISE_*`` variables; explicit non-None ``overrides`` win."""
        env = dict(os.environ if env is None else env)
        values: dict = {name: env[var] for name, var in ENV.items() if env.get(var)}
        if "timeout_s" in values:
            values["timeout_s"] = _parse(values, "timeout_s", float, "a number of seconds")
        if "max_upload_bytes" in values:
            values["max_upload_bytes"] = _parse(
                values, "max_upload_bytes", int, "a whole number of bytes, e.g. 10485760"
            )
        if "team" in values:
            values["team"] = _parse_flag(values["team"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> Settings:
        """Return a copy with ``changes`` applied (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def team_mode(self) -> bool:
        """Team mode as decided on creation (``team`` is None only until then)."""
        return bool(self.team)

    @property
    def state_db(self) -> Path:
        """SQLite file holding conversation threads and feedback."""
        return self.home / "state.sqlite"


def _label(name: str) -> str:
    return f"{name} ({ENV[name]})" if name in ENV else name


def _parse(values: dict, name: str, kind: type, expected: str):
    try:
        return kind(values[name].strip())
    except ValueError:
        raise InputError(f"{ENV[name]} must be {expected}, not '{values[name]}'") from None


_SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Kernel pseudo-filesystems: they look writable to root, yet no file can be made there."""


def _parse_flag(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{ENV['team']} must be 1 or 0, not '{text}'")


def _check_home(home: Path) -> None:
    """Refuse a home that is a file, sits in a kernel pseudo-filesystem, or is not writable."""
    advice = "point LENSWISE_HOME at a folder lenswise can write"
    try:
        existing = next(p for p in (home, *home.parents) if p.exists())
        real = existing.resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(f"LENSWISE_HOME {home} cannot be read ({exc}): {advice}") from None
    system = next((t for t in _SYSTEM_TREES if real == t or t in real.parents), None)
    if system is not None and real != Path("/dev/shm") and Path("/dev/shm") not in real.parents:
        raise InputError(
            f"LENSWISE_HOME {home} is inside {system}, a kernel pseudo-filesystem "
            f"(with LENSWISE_HOME unset, the home follows HOME): {advice}"
        )
    if not existing.is_dir():
        raise InputError(f"LENSWISE_HOME {home} is not a folder ({existing} is a file): {advice}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"LENSWISE_HOME {home} is not writable: {advice}")
