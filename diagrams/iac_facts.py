"""Facts shared by the IaC parsers: IAM policy breadth, implied services, walk budgets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from corpus.errors import InputError

# Services a template uses through IAM permissions alone: nothing to deploy, only an API to call.
API_ONLY_SERVICES = {
    "bedrock": "bedrock",
    "bedrock-agentcore": "bedrock-agentcore",
    "textract": "textract",
    "comprehend": "comprehend",
    "transcribe": "transcribe",
    "translate": "translate",
    "polly": "polly",
    "rekognition": "rekognition",
    "kendra": "kendra",
    "aoss": "opensearch",
    "sagemaker": "sagemaker",
}
# An IAM action (``bedrock:InvokeModel``). The service prefix is bounded and must start a run
# of its characters: an unbounded ``[a-z0-9-]+`` retried at every position of a long
# ``a-a-a-...`` string is quadratic.
_ACTION = re.compile(r"(?<![\w-])([a-z0-9-]{1,64}):([A-Za-z*]{1,128})\b")
_CROSS_REGION_MODEL = re.compile(
    r"\b(?:us|eu|apac|jp|au|ca|us-gov|global)\.(?:anthropic|amazon|meta|mistral|cohere|deepseek|"
    r"writer|ai21|twelvelabs)\.",
    re.IGNORECASE,
)
# ``Action: "*"`` / ``"Resource": ["*"]``. The space after the bracket belongs to the bracket:
# ``\s*\[?\s*`` would split one run of spaces between two quantifiers, quadratic on 100k spaces.
_ANY_ACTION = re.compile(r'Action"?\s*[=:]\s*(?:\[\s*)?"\*"')
_ANY_RESOURCE = re.compile(r'Resource"?\s*[=:]\s*(?:\[\s*)?"\*"')
_BROAD_MANAGED = ("AdministratorAccess", "PowerUserAccess", "AmazonBedrockFullAccess")
_DATA_PREFIXES = {"s3", "dynamodb", "aoss", "es", "kendra", "rds", "rds-data", "s3vectors", "*"}
_WRITES = ("put", "delete", "update", "create", "write", "batchwrite")
"""How a data action that changes data starts: a role that only reads is least privilege."""
MAX_NODES = 200_000
MAX_DEPTH = 100


def walk(value: Any, *, budget: list[int] | None = None, depth: int = 0) -> Iterator[Any]:
    """Yield every scalar, dict and list inside ``value``, within node and depth caps.

    Shared YAML aliases are walked each time they appear, so the node cap is what stops an
    alias bomb.

    Raises:
        InputError: the structure is nested deeper than ``MAX_DEPTH`` or has over ``MAX_NODES``.
    """
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise InputError(f"template is too large or self-referencing (over {MAX_NODES} values)")
    if depth > MAX_DEPTH:
        raise InputError(f"template nests deeper than {MAX_DEPTH} levels")
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item, budget=budget, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, budget=budget, depth=depth + 1)


def strings(value: Any, budget: list[int] | None = None) -> Iterator[str]:
    """Yield every string (dict keys excluded) inside ``value``."""
    for node in walk(value, budget=budget):
        if isinstance(node, str):
            yield node


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statement_facts(statements: Iterable[Any]) -> dict[str, Any]:
    """Summarise IAM policy statements (dicts with Effect/Action/Resource) into review facts."""
    actions: set[str] = set()
    broad: list[str] = []
    scoped_bedrock = False
    data_anywhere = False
    for statement in statements:
        if not isinstance(statement, dict) or str(statement.get("Effect", "Allow")) != "Allow":
            continue
        acts = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        # Non-string resources are intrinsic functions (``!Sub arn:...``): specific ARNs.
        resources = _as_list(statement.get("Resource"))
        any_resource = "*" in resources or not resources and "Resource" in statement
        actions.update(acts)
        for action in acts:
            if action == "*" or action.endswith(":*"):
                broad.append(action)
            elif action.lower().startswith("bedrock") and any_resource:
                broad.append(f"{action} on any resource")
            elif action.lower().startswith("bedrock") and resources:
                scoped_bedrock = True
            data_anywhere |= _is_data(action) and (any_resource or not resources)
    return _summary(actions, broad, scoped_bedrock, not data_anywhere)


def text_policy_facts(text: str) -> dict[str, Any]:
    """Summarise a policy given as text (Terraform ``jsonencode`` or JSON) by its action names."""
    actions = {f"{svc}:{verb}" for svc, verb in _ACTION.findall(text)}
    broad = sorted(a for a in actions if a.endswith(":*"))
    if _ANY_ACTION.search(text):
        broad.append("*")
    any_resource = _ANY_RESOURCE.search(text) is not None
    bedrock = [a for a in actions if a.lower().startswith("bedrock")]
    if bedrock and any_resource:
        broad.extend(f"{a} on any resource" for a in sorted(bedrock) if not a.endswith(":*"))
    return _summary(actions, broad, bool(bedrock) and not any_resource, not any_resource)


def _is_data(action: str) -> bool:
    return action.split(":", 1)[0].lower() in _DATA_PREFIXES - {"*"}


def _summary(
    actions: set[str], broad: list[str], scoped_bedrock: bool, data_on_arns: bool = False
) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if actions:
        facts["actions"] = sorted(actions)
        facts["broad_permissions"] = bool(broad)
    if broad:
        facts["broad_actions"] = sorted(set(broad))
    prefixes = {a.split(":", 1)[0].lower() for a in actions if ":" in a}
    if prefixes & {"bedrock", "bedrock-agentcore"}:
        facts["bedrock_access"] = True
        facts["scoped_bedrock"] = scoped_bedrock and not broad
    lowered = [b.lower() for b in broad]
    if lowered:
        facts["broad_bedrock"] = any(b == "*" or b.startswith("bedrock") for b in lowered)
        facts["broad_data"] = any(b.split(":", 1)[0] in _DATA_PREFIXES for b in lowered)
    data = [a.split(":", 1)[1].lower() for a in actions if _is_data(a)]
    if data and data_on_arns and not broad:
        # reads (or the one AOSS data-plane action) on named stores only: the retrieval role
        # reaches its own bucket, table or collection and nothing else
        facts["scoped_data"] = not any(a.startswith(_WRITES) for a in data)
    if any(a.lower() == "bedrock:applyguardrail" for a in actions):
        facts["applies_guardrail"] = True
    return facts


def managed_policy_facts(arns: Iterable[Any]) -> dict[str, Any]:
    """Flag AWS managed policies that grant far more than a workload needs.

    Each of them allows every Bedrock action on every resource, so model access is broad too.
    """
    broad = [str(a).rsplit("/", 1)[-1] for a in arns if any(b in str(a) for b in _BROAD_MANAGED)]
    if not broad:
        return {}
    facts: dict[str, Any] = {"broad_permissions": True, "broad_actions": broad}
    facts.update(broad_bedrock=True, bedrock_access=True, scoped_bedrock=False)
    facts["actions"] = ["bedrock:*"]  # every one of them calls Bedrock (an implicit service)
    return facts


_PUBLIC = re.compile(r'"?AllowFromPublic"?\s*[=:]\s*true', re.IGNORECASE)
_AOSS_ALL = re.compile(r'"aoss:\*"|"\*"')


def aoss_policy_facts(text: str) -> dict[str, Any]:
    """Read an OpenSearch Serverless network or data-access policy given as text."""
    facts: dict[str, Any] = {}
    if _PUBLIC.search(text):
        facts["public_network"] = True
    if _AOSS_ALL.search(text) and "Permission" in text:
        facts.update(broad_data=True, broad_permissions=True)
    elif "Permission" in text:
        # named permissions on named collections: its principals reach those and no others
        collections = _AOSS_RESOURCE.findall(text)
        facts["scoped_data"] = bool(collections) and not any("*" in c for c in collections)
    return facts


_AOSS_RESOURCE = re.compile(r'"(?:collection|index)/([^"/]*)')


_MODULE_ARGUMENTS = {
    "guardrail": "guardrail",
    "xray": "tracing",
    "tracing": "tracing",
    "cross_region": "cross_region_inference",
    "inference_profile": "cross_region_inference",
    "kms_key": "kms_encryption",
    "retention_in_days": "retention",
}
"""Fragment of a module argument's name -> the control fact a set value of it shows."""


def module_argument_facts(arguments: dict) -> dict[str, Any]:
    """Return the control facts shown by the arguments passed to a Terraform module.

    A module's resources live in another file; the arguments the caller sets (a guardrail id,
    tracing on, a KMS key) are the evidence this file holds. Unset or false values show nothing.
    """
    facts: dict[str, Any] = {}
    for name, value in arguments.items():
        if value in (None, False, "", [], {}, "false", "${false}"):
            continue
        for fragment, fact in _MODULE_ARGUMENTS.items():
            if fragment in str(name).lower():
                facts[fact] = True
    return facts


def mark_shared_roles(agents: Iterable[tuple[dict[str, Any], Any, bool]]) -> None:
    """Set ``shared_role`` on agents whose execution role also serves another agent.

    Args:
        agents: per agent resource, its facts, its role argument as written, and whether the
            resource stands for several agents (``count``/``for_each``, Terraform).
    """
    users: dict[str, list[tuple[dict[str, Any], bool]]] = {}
    for facts, role, repeated in agents:
        text = " ".join(strings(role))
        if text:
            users.setdefault(text, []).append((facts, repeated))
    for text, holders in users.items():
        per_instance = "each." in text or "count.index" in text  # one role per agent
        shared = len(holders) > 1 or any(repeated for _, repeated in holders)
        for facts, _ in holders:
            facts["shared_role"] = shared and not per_instance


def merge(facts: dict[str, Any], more: dict[str, Any]) -> None:
    """Merge ``more`` into ``facts``: lists union, booleans OR (a broad grant anywhere is broad)."""
    for key, value in more.items():
        if isinstance(value, list):
            facts[key] = sorted(set(facts.get(key, [])) | set(value))
        elif isinstance(value, bool) and key in facts and key != "scoped_bedrock":
            facts[key] = bool(facts[key]) or value
        else:
            facts[key] = value


def implied_services(actions: Iterable[str]) -> set[str]:
    """Return slugs of API-only services that actions call (``bedrock:InvokeModel`` -> bedrock)."""
    found = set()
    for action in actions:
        prefix = action.split(":", 1)[0].lower()
        if prefix in API_ONLY_SERVICES and ":" in action:
            found.add(API_ONLY_SERVICES[prefix])
    return found


_MODEL_ID = re.compile(
    r"\b(?:anthropic|amazon|meta|mistral|cohere|deepseek|writer|ai21|twelvelabs)\.[a-z0-9-]{1,80}-v\d",
    re.IGNORECASE,
)
"""A foundation model id (``anthropic.claude-3-haiku-20240307-v1:0``), by its version suffix."""


def names_model(variables: Any) -> dict[str, Any]:
    """Return ``names_model`` when an environment variable's value is a model id.

    Code given a model id calls that model, even when the role that allows it is declared
    in another stack: it is a caller of the model all the same.
    """
    return {"names_model": True} if any(_MODEL_ID.search(t) for t in strings(variables)) else {}


def uses_cross_region_inference(texts: Iterable[str]) -> bool:
    """Return True when any text names a cross-Region inference profile (``us.anthropic...``)."""
    return any(_CROSS_REGION_MODEL.search(text) for text in texts)


MODEL_METRIC_NAMESPACES = ("AWS/Bedrock", "AWS/SageMaker")
"""CloudWatch namespaces of the model services: an alarm there watches the model itself."""


def watches_model(namespace: Any) -> dict[str, Any]:
    """Return the facts of an alarm or metric on ``namespace`` (model metrics or not)."""
    return {"model_metrics": str(namespace) in MODEL_METRIC_NAMESPACES}


def is_bedrock_endpoint(service_name: str) -> bool:
    """Return True when a VPC endpoint service name reaches Amazon Bedrock."""
    return "bedrock" in service_name.lower()


_MODEL_USERS = ("bedrock-agents", "bedrock-knowledge-bases", "bedrock-flows")


def add_implicit_services(comps: dict, edges: dict, texts: Iterable[str]) -> None:
    """Add components for services the template uses without declaring them, in place.

    A function allowed ``bedrock:InvokeModel`` calls Amazon Bedrock; an agent or knowledge base
    runs on Bedrock foundation models. Each gets one implicit component, linked from its users.
    ``texts`` (every string of the template) reveal cross-Region inference profiles.
    """
    from corpus.services import SERVICES
    from diagrams.model import Component

    present = {c.service for c in comps.values()}

    def implicit(slug: str, why: str) -> str:
        comp_id = f"{slug}-api"
        if slug not in present and comp_id not in comps:
            comps[comp_id] = Component(comp_id, f"{SERVICES[slug]} ({why})", slug, source=why)
        return comp_id

    for comp in list(comps.values()):
        for slug in sorted(implied_services(comp.facts.get("actions", []))):
            target = implicit(slug, "called through IAM permissions")
            if target in comps and target != comp.id:
                edges.setdefault((comp.id, target), "IAM permission")
        if comp.service in _MODEL_USERS:
            target = implicit("bedrock", "foundation models behind agents and knowledge bases")
            if target in comps:
                edges.setdefault((comp.id, target), "invokes model")
    if uses_cross_region_inference(texts):
        for comp in comps.values():
            if comp.service in ("bedrock", *_MODEL_USERS):
                comp.facts["cross_region_inference"] = True
