"""The calls lenswise makes to the Well-Architected Tool, through boto3's ``wellarchitected``.

Credentials, Region and endpoint come from the standard AWS chain
(``AWS_ENDPOINT_URL_WELLARCHITECTED`` included; ``LENSWISE_REGION`` overrides the Region).
Throttling and transient faults are retried by botocore with exponential backoff; whatever
still fails becomes :class:`WaToolError` with one line that says what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.config import Settings
from agent.models import (
    BAD_CREDENTIAL_CODES,
    THROTTLING_CODES,
    bedrock_client_config,
    client_error_parts,
)
from corpus.errors import InputError, LenswiseError

MAX_ATTEMPTS = 5
"""Calls per request, the first included: four retries with backoff on throttling."""


class WaToolError(LenswiseError):
    """A Well-Architected Tool call failed; the message is one line naming what to fix."""


def describe(exc: BaseException, operation: str) -> str:
    """Turn what a ``wellarchitected`` call raised into one clear line."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        code, message, retries = client_error_parts(exc)
        key = code.lower()
        if key in THROTTLING_CODES:
            return (
                f"the Well-Architected Tool kept throttling {operation} ({code}) after {retries} "
                f"{'retry' if retries == 1 else 'retries'}; try again in a minute"
            )
        if key == "accessdeniedexception":
            return (
                f"access denied to {operation} ({code}: {message}); the IAM identity needs "
                f"wellarchitected:{operation}"
            )
        if key in BAD_CREDENTIAL_CODES:
            return f"AWS rejected the credentials ({code}: {message}); refresh or fix them"
        return f"the Well-Architected Tool refused {operation} ({code}: {message})"
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return (
            "no AWS credentials found for the Well-Architected Tool: configure the standard AWS "
            "chain (AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        )
    if isinstance(exc, bx.NoRegionError):
        return (
            "no AWS Region set for the Well-Architected Tool: set LENSWISE_REGION or "
            "AWS_DEFAULT_REGION (or region in your AWS config profile)"
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return f"cannot reach the Well-Architected Tool ({exc}); check the network and Region"
    if isinstance(exc, bx.BotoCoreError):
        return f"the Well-Architected Tool call {operation} failed ({type(exc).__name__}: {exc})"
    return f"{operation} failed ({type(exc).__name__}: {exc})"


def error_code(exc: BaseException) -> str:
    """Return the AWS error code of a failed call (``ResourceNotFoundException``...), or ''."""
    response = getattr(exc, "response", None)
    return str((response or {}).get("Error", {}).get("Code", "")) if response else ""


class WaTool:
    """The ``wellarchitected`` operations an export uses, each failing as :class:`WaToolError`."""

    def __init__(self, settings: Settings, *, client: Any = None, max_attempts: int = MAX_ATTEMPTS):
        """Create the boto3 client (or use ``client``) with bounded retries.

        Raises:
            WaToolError: no Region or no usable configuration.
        """
        if client is None:
            try:
                import boto3
            except ImportError as exc:  # pragma: no cover - boto3 is a dependency
                raise InputError("the export needs boto3: pip install boto3") from exc
            config = bedrock_client_config(max_attempts=max_attempts, read_timeout=30.0)
            try:
                # A session of its own: the default one caches credentials for the process.
                session = boto3.session.Session()
                client = session.client(
                    "wellarchitected", region_name=settings.region, config=config
                )
            except Exception as exc:  # noqa: BLE001 - botocore raises several kinds here
                raise WaToolError(describe(exc, "setup")) from exc
        self.client = client

    @property
    def region(self) -> str:
        """Return the Region the client talks to."""
        return str(self.client.meta.region_name)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (e.g. ``GetAnswer``) with ``params``; errors become one line."""
        from botocore import exceptions as bx

        method = getattr(self.client, _snake(operation))
        try:
            return method(**params)
        except (bx.BotoCoreError, bx.ClientError) as exc:
            failure = WaToolError(describe(exc, operation))
            failure.code = error_code(exc)  # type: ignore[attr-defined]
            raise failure from exc

    def pages(self, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Yield every item under ``key`` of a paginated ``operation``, following NextToken."""
        token = None
        while True:
            page = self.call(operation, **params, **({"NextToken": token} if token else {}))
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return


def _snake(operation: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in operation).lstrip("_")
