"""The calls lenswise makes to the Well-Architected Tool, through boto3's ``wellarchitected``.

Credentials, Region and endpoint come from the standard AWS chain
(``AWS_ENDPOINT_URL_WELLARCHITECTED`` included; ``LENSWISE_REGION`` overrides the Region).
Throttling and transient faults are retried by botocore with exponential backoff; whatever
still fails becomes :class:`WaToolError` with one line that says what to do. Every reply is
checked against the shape lenswise reads before it is used, pagination stops on a repeated
token or after :data:`MAX_PAGES`, and a write whose outcome is unknown (a 5xx, a timeout or an
unreadable reply) says that it may have been applied.
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
from corpus.errors import LenswiseError
from corpus.extras import require_extra

MAX_ATTEMPTS = 5
"""Calls per request, the first included: four retries with backoff on throttling."""
MAX_PAGES = 1_000
"""Most pages one listing may take (a workload has a few dozen questions, pages hold 50)."""
WRITES = frozenset({"CreateWorkload", "AssociateLenses", "UpdateAnswer", "CreateMilestone"})
"""Operations that change the workload: a failure without a clear answer may have applied."""

_TEXT, _NUMBER, _LIST, _MAP = (str,), (int,), (list,), (dict,)
SHAPES: dict[str, dict[str, tuple[type, ...]]] = {
    "ListWorkloads": {"WorkloadSummaries": _LIST},
    "GetWorkload": {"Workload": _MAP},
    "CreateWorkload": {"WorkloadId": _TEXT},
    "GetLensReview": {"LensReview": _MAP},
    "ListAnswers": {"AnswerSummaries": _LIST},
    "GetAnswer": {"Answer": _MAP},
    "CreateMilestone": {"MilestoneNumber": _NUMBER},
}
"""The keys lenswise reads from each reply, and their types (all required)."""
ITEMS: dict[str, dict[str, tuple[type, ...]]] = {
    "WorkloadSummaries": {"WorkloadId": _TEXT, "WorkloadName": _TEXT},
    "Workload": {"WorkloadId": _TEXT, "WorkloadName": _TEXT},
    "AnswerSummaries": {"QuestionId": _TEXT},
    "Answer": {},
}
"""Required keys inside each listed item (or the one nested object) of a reply."""
OPTIONAL: dict[str, tuple[type, ...]] = {
    "NextToken": _TEXT,
    "Lenses": _LIST,
    "Choices": _LIST,
    "SelectedChoices": _LIST,
    "Notes": _TEXT,
    "LensVersion": _TEXT,
    "WorkloadName": _TEXT,
}
"""Keys that may be absent, but must have this type when present (at any of the levels)."""


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
            require_extra("bedrock", "the WA Tool export")
            import boto3.session

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
        """Call ``operation`` (e.g. ``GetAnswer``) with ``params`` and check the reply's shape.

        Raises:
            WaToolError: one line naming ``operation``; ``code`` holds the AWS error code and
                ``maybe_written`` is True when a write may have been applied all the same.
        """
        from botocore import exceptions as bx

        method = getattr(self.client, _snake(operation))
        try:
            reply = method(**params)
        except (bx.BotoCoreError, bx.ClientError) as exc:
            raise _failure(describe(exc, operation), operation, exc) from exc
        except Exception as exc:  # noqa: BLE001 - botocore's parsers raise many kinds on junk
            raise _failure(_unreadable(operation, f"{type(exc).__name__}"), operation, exc) from exc
        problem = shape_problem(operation, reply)
        if problem:
            raise _failure(_unreadable(operation, problem), operation, None)
        return reply

    def pages(self, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Yield every item under ``key`` of a paginated ``operation``, following NextToken.

        Raises:
            WaToolError: a call failed, a token came back twice, or over :data:`MAX_PAGES`.
        """
        token, seen = None, set()
        for _ in range(MAX_PAGES):
            page = self.call(operation, **params, **({"NextToken": token} if token else {}))
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return
            if token in seen:
                raise WaToolError(
                    f"the Well-Architected Tool returned the same NextToken twice for {operation}: "
                    "stopped paging rather than loop"
                )
            seen.add(token)
        raise WaToolError(
            f"the Well-Architected Tool kept paging {operation} past {MAX_PAGES} pages: stopped"
        )


def shape_problem(operation: str, reply: Any) -> str:
    """Return what is wrong with the shape of ``operation``'s ``reply``, or '' when it is usable."""
    if not isinstance(reply, dict):
        return f"the reply is {type(reply).__name__}, not an object"
    for key, kinds in SHAPES.get(operation, {}).items():
        if key not in reply or reply[key] is None:
            return f"'{key}' is missing"
        problem = _typed(key, reply[key], kinds)
        if problem:
            return problem
        items = reply[key] if isinstance(reply[key], list) else [reply[key]]
        for item in items if key in ITEMS else []:
            if not isinstance(item, dict):
                return f"an item of '{key}' is {type(item).__name__}, not an object"
            for inner, inner_kinds in ITEMS[key].items():
                problem = _typed(f"{key}.{inner}", item.get(inner), inner_kinds)
                if problem:
                    return problem
            problem = _optional(item, key)
            if problem:
                return problem
    return _optional(reply, "")


def _typed(key: str, value: Any, kinds: tuple[type, ...]) -> str:
    if isinstance(value, bool) or not isinstance(value, kinds):
        return f"'{key}' is {type(value).__name__}, not {kinds[0].__name__}"
    return ""


def _optional(item: dict, where: str) -> str:
    for key, kinds in OPTIONAL.items():
        if item.get(key) is not None:
            problem = _typed(f"{where}.{key}".lstrip("."), item[key], kinds)
            if problem:
                return problem
    for key in ("Choices", "Lenses"):
        bad = next((x for x in item.get(key) or [] if not isinstance(x, dict | str)), None)
        if bad is not None:
            return f"an item of '{key}' is {type(bad).__name__}"
    return ""


def _unreadable(operation: str, problem: str) -> str:
    return f"the Well-Architected Tool sent {operation} a reply lenswise cannot use ({problem})"


def _failure(message: str, operation: str, exc: BaseException | None) -> WaToolError:
    """Return the error for a failed call, saying when a write may have gone through."""
    code = error_code(exc) if exc is not None else ""
    maybe = operation in WRITES and _ambiguous(exc)
    if maybe:
        message += (
            f"; {operation} may have been applied all the same: check the workload in the "
            "console before running the export again"
        )
    failure = WaToolError(message)
    failure.code = code  # type: ignore[attr-defined]
    failure.maybe_written = maybe  # type: ignore[attr-defined]
    return failure


def _ambiguous(exc: BaseException | None) -> bool:
    """Return True when a failure leaves unknown whether the service applied the request.

    A 4xx reply refused it; a 5xx, a lost connection after sending, a timeout or a reply that
    cannot be read all leave it open.
    """
    from botocore import exceptions as bx

    if exc is None:  # a reply came back but its shape is wrong: the service did act
        return True
    if isinstance(exc, bx.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return not isinstance(status, int) or status >= 500
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError | bx.NoRegionError):
        return False
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return False  # never connected: nothing was sent
    return True


def _snake(operation: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in operation).lstrip("_")
