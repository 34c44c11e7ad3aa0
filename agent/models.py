"""Chat model providers: a factory from spec strings; model-error messages, token usage, cost."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from agent.config import Settings
from corpus.errors import InputError, LenswiseError
from corpus.extras import has_extra, require_extra

if TYPE_CHECKING:
    from botocore.config import Config
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

BEDROCK_PROVIDERS = ("bedrock_converse", "bedrock")
DEFAULT_MAX_ATTEMPTS = 4
"""Bedrock calls per request, first try included: three retries with exponential backoff."""
DEFAULT_CONNECT_TIMEOUT_S = 5.0

_PROVIDER = re.compile(r"[a-z][a-z0-9_]*")
# A bare Bedrock model id (optionally with a cross-Region inference profile prefix).
_BEDROCK_ID = re.compile(
    r"((us|eu|apac|jp|au|ca|us-gov|global)\.)?"
    r"(amazon|anthropic|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\.\S+"
)
THROTTLING_CODES = {"throttlingexception", "toomanyrequestsexception", "throttledexception"}
"""AWS error codes (lowercase) that mean "slow down": retried, then reported as throttling."""
_TRANSIENT = {
    "internalserverexception",
    "serviceunavailableexception",
    "modelnotreadyexception",
    "modeltimeoutexception",
    "modelstreamerrorexception",
}
BAD_CREDENTIAL_CODES = {
    "unrecognizedclientexception",
    "invalidsignatureexception",
    "expiredtokenexception",
}
"""AWS error codes (lowercase) that mean the credentials were refused."""
# Body/stream damage that langchain-aws reports as a plain exception with this text.
_MALFORMED_MARKERS = {
    "No 'output' key found": "the Converse response has no output",
    "Incomplete Bedrock response stream": "the stream ended before messageStop",
}

# Approximate on-demand list prices in USD per 1K tokens (input, output), us-east-1,
# for estimates only: check the Bedrock pricing page for real figures.
_PRICES_PER_1K: dict[str, tuple[float, float]] = {
    "anthropic.claude-3-haiku": (0.00025, 0.00125),
    "anthropic.claude-3-5-haiku": (0.0008, 0.004),
    "anthropic.claude-3-5-sonnet": (0.003, 0.015),
    "anthropic.claude-3-7-sonnet": (0.003, 0.015),
    "anthropic.claude-sonnet-4": (0.003, 0.015),
    "amazon.nova-micro": (0.000035, 0.00014),
    "amazon.nova-lite": (0.00006, 0.00024),
    "amazon.nova-pro": (0.0008, 0.0032),
    "meta.llama3-1-8b-instruct": (0.00022, 0.00022),
    "meta.llama3-1-70b-instruct": (0.00072, 0.00072),
}


class ModelError(LenswiseError):
    """The chat model failed (throttled, denied, unreachable...): one clear line (exit code 1)."""


def parse_spec(spec: str) -> tuple[str | None, str]:
    """Split a model spec into ``(provider, model)``; provider is None when not given.

    A bare Bedrock model id or ARN (``anthropic.claude-...:0``, ``arn:aws:bedrock:...``)
    means ``bedrock_converse``.

    Raises:
        InputError: The spec is empty, ``extractive``, or names a provider but no model.
    """
    spec = spec.strip()
    if not spec or spec == "extractive":
        raise InputError(
            f"model spec {spec!r} names no chat model: use provider:model, "
            "e.g. bedrock_converse:anthropic.claude-3-haiku-20240307-v1:0"
        )
    if spec.startswith("arn:") or _BEDROCK_ID.fullmatch(spec):
        return "bedrock_converse", spec
    provider, sep, model = spec.partition(":")
    if not sep or not _PROVIDER.fullmatch(provider):
        return None, spec
    if not model.strip():
        raise InputError(f"model spec {spec!r} has no model id after '{provider}:'")
    return provider, model.strip()


def bedrock_client_config(
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_mode: str = "standard",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    read_timeout: float = 60.0,
) -> Config:
    """Build the botocore client config: bounded retries (throttling included) and timeouts.

    Args:
        max_attempts: Calls per request including the first; 1 disables retries.
        retry_mode: botocore retry mode, ``standard`` or ``adaptive`` (client-side rate limiting).
        connect_timeout: Seconds to wait for the TCP connection.
        read_timeout: Seconds to wait for each read of the response (a stream's next event).
    """
    from botocore.config import Config

    return Config(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def load_chat_model(
    spec: str,
    settings: Settings,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_mode: str = "standard",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    read_timeout: float | None = None,
    **model_kwargs: Any,
) -> BaseChatModel:
    """Return the LangChain chat model for ``spec`` (any spec but ``extractive``).

    ``bedrock_converse:<model-id>`` (or a bare Bedrock id) builds ``ChatBedrockConverse``
    with ``settings.region`` (else the standard AWS chain), bounded retries and timeouts;
    endpoint and credentials come from the AWS chain (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``
    included). Other ``provider:model`` specs go through ``init_chat_model``.

    Args:
        spec: Model spec, e.g. ``bedrock_converse:anthropic.claude-3-haiku-20240307-v1:0``.
        settings: Run-time settings (region, timeout).
        max_attempts: Bedrock calls per request including the first (retries on throttling).
        retry_mode: botocore retry mode, ``standard`` or ``adaptive``.
        connect_timeout: Seconds to wait for a connection to Bedrock.
        read_timeout: Seconds to wait for each read; defaults to ``settings.timeout_s``.
        **model_kwargs: Passed to the model class (``temperature``, ``max_tokens``...).

    Raises:
        InputError: Bad spec, unknown provider, missing provider package, or a model that
            cannot be set up (no AWS Region, missing API key...).
    """
    provider, model = parse_spec(spec)
    if provider in BEDROCK_PROVIDERS:
        require_extra("bedrock", f"model {spec!r}")
        config = bedrock_client_config(
            max_attempts=max_attempts,
            retry_mode=retry_mode,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout or settings.timeout_s,
        )
        model_kwargs = {"region_name": settings.region, "config": config, **model_kwargs}
    try:
        if provider == "bedrock_converse":
            from langchain_aws import ChatBedrockConverse

            return ChatBedrockConverse(model=model, **model_kwargs)
        from langchain.chat_models import init_chat_model

        return init_chat_model(model, model_provider=provider, **model_kwargs)
    except ImportError as exc:
        package = re.search(r"pip install ([\w.-]+)", str(exc))
        name = package.group(1) if package else "langchain-aws"
        raise InputError(f"model {spec!r} needs the {name} package: pip install {name}") from exc
    except Exception as exc:
        if re.search(r"unsupported provider|unable to infer model provider", str(exc), re.I):
            raise InputError(
                f"unknown model provider in {spec!r}: use 'extractive' or provider:model, "
                "e.g. bedrock_converse:<model-id>, openai:<model>, anthropic:<model>"
            ) from exc
        raise InputError(
            f"cannot set up model {spec!r}: {describe_model_error(exc, model)}"
        ) from exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc`` and its causes, including errors wrapped by pydantic validators."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += _pydantic_wrapped(current)


def _pydantic_wrapped(exc: BaseException) -> list[BaseException]:
    """Return the exceptions a pydantic ``ValidationError`` holds (langchain-aws setup errors)."""
    if not type(exc).__module__.startswith("pydantic") or not hasattr(exc, "errors"):
        return []
    errors: list[dict[str, Any]] = getattr(exc, "errors")()  # pydantic v1 and v2 errors
    wrapped = [error.get("ctx", {}).get("error") for error in errors]
    return [error for error in wrapped if isinstance(error, BaseException)]


def _display_name(model: str | None) -> str:
    """Return the model id of a spec for messages, or ``the model``."""
    try:
        return parse_spec(model or "")[1]
    except InputError:
        return "the model"


def _first_line(text: str) -> str:
    return " ".join(text.strip().splitlines()[:1]) or "no details"


def client_error_parts(exc: Any) -> tuple[str, str, int]:
    """Return the code, first message line and retry count of a botocore ``ClientError``."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "")) or "UnknownError"
    retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    return code[0].upper() + code[1:], _first_line(str(error.get("Message", ""))), retries


def _describe_client_error(exc: Any, model: str) -> str:
    """Describe a botocore ``ClientError`` (HTTP error or event-stream exception)."""
    code, message, retries = client_error_parts(exc)
    key = code.lower()
    if key in THROTTLING_CODES:
        return (
            f"Bedrock is throttling requests for {model} ({code}) after {retries} "
            f"{'retry' if retries == 1 else 'retries'}; "
            "try again shortly or request a quota increase"
        )
    if key == "accessdeniedexception":
        return (
            f"No access to model {model} ({code}): enable model access in the Bedrock "
            "console or check IAM bedrock:InvokeModel / bedrock:InvokeModelWithResponseStream"
        )
    if key == "validationexception" and "on-demand throughput" in message:
        return (
            f"Model {model} cannot be called on demand (ValidationException): use an "
            f"inference profile id such as us.{model}"
        )
    if key == "validationexception" and re.search(r"model identifier|model id", message, re.I):
        return (
            f"Unknown model id {model} (ValidationException: {message}); check the id and "
            "Region, some models need an inference profile id such as us.<model-id>"
        )
    if key == "resourcenotfoundexception":
        return f"Model {model} not found in this Region (ResourceNotFoundException): {message}"
    if key in BAD_CREDENTIAL_CODES:
        return f"AWS rejected the credentials ({code}): {message}; refresh or fix them"
    if key in _TRANSIENT:
        return f"Bedrock failed while answering with {model} ({code}): {message}; try again"
    return f"Bedrock rejected the request for {model} ({code}): {message}"


def describe_model_error(exc: BaseException, model: str | None = None) -> str:
    """Turn an exception from a model call or model setup into one clear line for the user.

    Args:
        exc: What ``invoke`` / ``stream`` / ``load_chat_model`` raised.
        model: The model spec or id, named in the message.
    """
    name = _display_name(model)
    aws = has_extra("bedrock")  # without it, no error can come from botocore
    for cause in _chain(exc):
        line = _describe_aws_error(cause, name) if aws else None
        if line:
            return line
        if isinstance(cause, InputError):
            return str(cause)
    for marker, what in _MALFORMED_MARKERS.items():
        if marker in str(exc):
            return f"Bedrock sent a malformed response for {name} ({what}); try again"
    return f"Model {name} failed ({type(exc).__name__}: {_first_line(str(exc))})"


def _describe_aws_error(cause: BaseException, name: str) -> str | None:
    """Return the line for a botocore or urllib3 error, else None."""
    from botocore import exceptions as bx
    from botocore.eventstream import ParserError
    from botocore.parsers import ResponseParserError
    from urllib3 import exceptions as ux

    if isinstance(cause, bx.ClientError):
        return _describe_client_error(cause, name)
    if isinstance(cause, bx.NoRegionError):
        return (
            "No AWS Region set for Bedrock: set LENSWISE_REGION or AWS_REGION "
            "(or region in your AWS config profile)"
        )
    if isinstance(cause, bx.NoCredentialsError | bx.PartialCredentialsError):
        return (
            "No AWS credentials found for Bedrock: configure the standard AWS chain "
            "(AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        )
    if isinstance(cause, bx.ConnectTimeoutError | bx.EndpointConnectionError):
        return f"Cannot reach Bedrock: {cause}; check the network, Region and endpoint"
    if isinstance(cause, bx.ReadTimeoutError | ux.ReadTimeoutError):
        return f"Bedrock did not answer in time for {name} (read timeout); try again"
    if isinstance(cause, bx.ConnectionClosedError | ux.ProtocolError):
        return f"The connection to Bedrock broke while answering with {name}; try again"
    if isinstance(cause, ParserError | ResponseParserError | bx.ResponseStreamingError):
        return (
            f"Bedrock sent a malformed response for {name} ({type(cause).__name__}: "
            f"{_first_line(str(cause))}); try again"
        )
    return None


def is_retryable(exc: BaseException) -> bool:
    """Tell whether trying the same call again later may succeed (throttling, transient faults)."""
    if not has_extra("bedrock"):
        return any(marker in str(exc) for marker in _MALFORMED_MARKERS)
    from botocore import exceptions as bx
    from botocore.eventstream import ParserError
    from urllib3 import exceptions as ux

    for cause in _chain(exc):
        if isinstance(cause, bx.ClientError):
            code = str(cause.response.get("Error", {}).get("Code", "")).lower()
            return code in THROTTLING_CODES | _TRANSIENT
        if isinstance(cause, bx.ConnectionError | bx.HTTPClientError | ParserError | ux.HTTPError):
            return True
    return any(marker in str(exc) for marker in _MALFORMED_MARKERS)


def usage_from(message: BaseMessage | None) -> dict[str, int]:
    """Return the token usage of an AI message or chunk (zeros when it carries none)."""
    usage = getattr(message, "usage_metadata", None) or {}
    inp, out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "total_tokens": int(usage.get("total_tokens", inp + out)),
    }


def estimate_cost(model_id: str, usage: dict[str, int]) -> float | None:
    """Estimate the USD cost of ``usage`` on a Bedrock model; None when the model is unknown.

    Args:
        model_id: Bedrock model id or spec (``bedrock_converse:``/Region prefixes are ignored).
        usage: Token counts as returned by :func:`usage_from`.
    """
    model_id = model_id.split("bedrock_converse:", 1)[-1]
    model_id = re.sub(r"^(us|eu|apac|jp|au|ca|us-gov|global)\.", "", model_id)
    for prefix in sorted(_PRICES_PER_1K, key=len, reverse=True):
        if model_id.startswith(prefix):
            price_in, price_out = _PRICES_PER_1K[prefix]
            return (
                usage.get("input_tokens", 0) * price_in + usage.get("output_tokens", 0) * price_out
            ) / 1000
    return None
