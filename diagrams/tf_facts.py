"""Control facts read from Terraform resource arguments, one small reader per resource type."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from diagrams import iac_facts

Facts = dict[str, Any]

LOADS_FILE = re.compile(r"\b(?:templatefile|file)\(")
"""A call that reads content from another file into an argument (not ``filebase64sha256``)."""

# Stand-alone resources that switch a control on for the resource they reference.
ATTACHMENTS: dict[str, str] = {
    "aws_s3_bucket_server_side_encryption_configuration": "encryption",
    "aws_s3_bucket_public_access_block": "public_access_block",
    "aws_s3_bucket_versioning": "versioning",
    "aws_s3_bucket_replication_configuration": "replication",
    "aws_s3_bucket_lifecycle_configuration": "lifecycle",
    "aws_wafv2_web_acl_association": "waf",
    "aws_api_gateway_authorizer": "authorizer",
    "aws_apigatewayv2_authorizer": "authorizer",
    "aws_lambda_provisioned_concurrency_config": "provisioned_concurrency",
    "aws_appautoscaling_policy": "autoscaling",
}


def block(body: Any, name: str) -> dict:
    """Return the first ``name { ... }`` block of ``body`` (an empty dict when absent)."""
    value = body.get(name) if isinstance(body, dict) else None
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _blocks(body: dict, name: str) -> list[dict]:
    value = body.get(name)
    items = value if isinstance(value, list) else [value] if value else []
    return [item for item in items if isinstance(item, dict)]


def _on(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "active", "enabled")


def _text(value: Any) -> str:
    return " ".join(iac_facts.strings(value))


def _lambda(body: dict) -> Facts:
    variables = block(body, "environment").get("variables")
    facts: Facts = {
        "in_vpc": bool(block(body, "vpc_config")),
        "tracing": block(body, "tracing_config").get("mode") == "Active",
        "dlq": bool(block(body, "dead_letter_config")),
        "reserved_concurrency": body.get("reserved_concurrent_executions") is not None,
        "hints": sorted(str(k) for k in variables) if isinstance(variables, dict) else [],
        **iac_facts.names_model(variables),
    }
    if isinstance(body.get("timeout"), int | float):
        facts["timeout_seconds"] = body["timeout"]
    return facts


def _method(body: dict) -> Facts:
    if str(body.get("http_method", "")).upper() == "OPTIONS":
        return {}
    return {
        "authorizer": body.get("authorization") not in (None, "NONE")
        or _on(body.get("api_key_required"))
    }


def _bucket(body: dict) -> Facts:
    encryption = block(body, "server_side_encryption_configuration")
    return {
        "encryption": bool(encryption),
        "kms_encryption": "kms" in _text(encryption),
        "versioning": _on(block(body, "versioning").get("enabled")),
        "replication": bool(block(body, "replication_configuration")),
        "public_access_block": False,
        "lifecycle": bool(block(body, "lifecycle_rule")),
    }


def _table(body: dict) -> Facts:
    return {
        "encryption": _on(block(body, "server_side_encryption").get("enabled")),
        "pitr": _on(block(body, "point_in_time_recovery").get("enabled")),
        "global_table": bool(_blocks(body, "replica")),
        "retention": _on(block(body, "ttl").get("enabled")),
    }


def _guardrail(body: dict) -> Facts:
    content = block(body, "content_policy_config")
    return {
        "content_filters": bool(content),
        "prompt_attack_filter": "PROMPT_ATTACK" in _text(content),
        "pii_filter": bool(block(body, "sensitive_information_policy_config")),
        "grounding_check": bool(block(body, "contextual_grounding_policy_config")),
    }


def _state_machine(body: dict) -> Facts:
    definition = _text(body.get("definition"))
    facts: Facts = {
        "tracing": _on(block(body, "tracing_configuration").get("enabled")),
        "logging": bool(block(body, "logging_configuration")),
    }
    if LOADS_FILE.search(definition):  # the states live in another file: cannot tell
        return facts
    return {**facts, "timeout": "TimeoutSeconds" in definition, "retries": "Retry" in definition}


def _policy_document(body: dict) -> Facts:
    statements = [
        {
            "Effect": s.get("effect", "Allow"),
            "Action": s.get("actions", []),
            "Resource": s.get("resources", []),
        }
        for s in _blocks(body, "statement")
    ]
    return iac_facts.statement_facts(statements)


def _role(body: dict) -> Facts:
    facts = iac_facts.text_policy_facts(_text([body.get("policy"), body.get("inline_policy")]))
    arns = body.get("managed_policy_arns") or body.get("policy_arn") or []
    iac_facts.merge(
        facts, iac_facts.managed_policy_facts(arns if isinstance(arns, list) else [arns])
    )
    return facts


READERS: dict[str, Callable[[dict], Facts]] = {
    "aws_lambda_function": _lambda,
    "aws_lambda_function_url": lambda b: {
        "authorizer": b.get("authorization_type") not in (None, "NONE")
    },
    "aws_api_gateway_method": _method,
    "aws_apigatewayv2_route": lambda b: {
        "authorizer": b.get("authorization_type") not in (None, "NONE")
    },
    "aws_api_gateway_stage": lambda b: {
        "tracing": _on(b.get("xray_tracing_enabled")),
        "logging": bool(block(b, "access_log_settings")),
    },
    "aws_apigatewayv2_stage": lambda b: {
        "logging": bool(block(b, "access_log_settings")),
        "throttling": bool(block(b, "default_route_settings")),
    },
    "aws_api_gateway_method_settings": lambda b: {"throttling": True},
    "aws_appsync_graphql_api": lambda b: {
        "authorizer": b.get("authentication_type") != "API_KEY",
        "tracing": _on(b.get("xray_enabled")),
    },
    "aws_s3_bucket": _bucket,
    "aws_dynamodb_table": _table,
    "aws_sqs_queue": lambda b: {
        "dlq": bool(b.get("redrive_policy")),
        "encryption": bool(b.get("kms_master_key_id") or _on(b.get("sqs_managed_sse_enabled"))),
    },
    "aws_bedrockagent_agent": lambda b: {
        "guardrail": bool(block(b, "guardrail_configuration")),
        "session_timeout": b.get("idle_session_ttl_in_seconds") is not None,
        "hints": [_text(b.get("foundation_model"))],
    },
    "aws_bedrock_guardrail": _guardrail,
    "aws_vpc_endpoint": lambda b: {
        "bedrock_endpoint": iac_facts.is_bedrock_endpoint(_text(b.get("service_name")))
    },
    "aws_sfn_state_machine": _state_machine,
    "aws_bedrock_model_invocation_logging_configuration": lambda b: {"invocation_logging": True},
    "aws_bedrock_provisioned_model_throughput": lambda b: {"provisioned_throughput": True},
    "aws_bedrock_inference_profile": lambda b: {"cross_region_inference": True},
    "aws_sagemaker_endpoint_configuration": lambda b: {
        "serverless": "serverless_config" in _text(list(b))
        or any(block(v, "serverless_config") for v in _blocks(b, "production_variants")),
        "async_inference": bool(block(b, "async_inference_config")),
    },
    "aws_cloudwatch_metric_alarm": lambda b: iac_facts.watches_model(b.get("namespace")),
    "aws_cloudwatch_log_group": lambda b: {
        "retention": b.get("retention_in_days") is not None,
        "encryption": bool(b.get("kms_key_id")),
    },
    "aws_opensearchserverless_security_policy": lambda b: iac_facts.aoss_policy_facts(
        _text(b.get("policy"))
    ),
    "aws_opensearchserverless_access_policy": lambda b: iac_facts.aoss_policy_facts(
        _text(b.get("policy"))
    ),
    "aws_iam_role": _role,
    "aws_iam_policy": _role,
    "aws_iam_role_policy": _role,
    "aws_iam_role_policy_attachment": _role,
    "aws_iam_policy_document": _policy_document,
}


def read_facts(resource_type: str, body: Any) -> Facts:
    """Return the review facts of one Terraform resource (empty when the type has no reader)."""
    reader = READERS.get(resource_type)
    body = {} if body is None else body
    if resource_type.startswith("module ") and isinstance(body, dict):
        reader = iac_facts.module_argument_facts
    if reader is None or not isinstance(body, dict):
        return {}
    facts = reader(body)
    if "hints" in facts:
        facts["hints"] = [h for h in facts["hints"] if h]
    return facts
