"""Apply one remediation template to a Terraform file by inserting HCL text.

Blocks are appended at the end and small blocks are inserted before the closing brace of the
resources they change, so the rest of the file is left byte for byte as it was.
"""

from __future__ import annotations

import json
import re

from diagrams.fixes import tf_access
from diagrams.fixes.cfn_patch import Patch, Unpatchable
from diagrams.fixes.hcl import DECLARED, block_span, declared_blocks
from diagrams.fixes.library import remedies

_FUNCTION = "aws_lambda_function"
_MACHINE = "aws_sfn_state_machine"
_AGENT = "aws_bedrockagent_agent"
_STAGES = ("aws_api_gateway_stage", "aws_apigatewayv2_stage")
_BUCKET, _TABLE, _REST_STAGE = "aws_s3_bucket", "aws_dynamodb_table", "aws_api_gateway_stage"
_KINDS = {
    "guardrail_agent": (_AGENT,),
    "api_throttling": _STAGES,
    "data_expiry": (_BUCKET, _TABLE),
    "log_retention": (_FUNCTION,),
    "waf_association": (_REST_STAGE,),
    "workflow_timeout": (_MACHINE,),
}
"""Wires that edit every resource of these types, not only the ones on the model path."""
_NEEDED = {
    "api_throttling": "no API stage in the file to set throttling on",
    "waf_association": "no REST API stage in the file to put a web ACL in front of",
    "workflow_timeout": "no state machine definition written in the file lacks a timeout",
}
"""Wires without which the remedy does nothing: the reason when they find nothing to edit."""
_FILE_WIRES = {
    "narrow_bedrock": tf_access.narrow_bedrock,
    "api_auth": tf_access.api_auth,
    "aoss_private": tf_access.aoss_private,
}
"""Wires that find what they edit across the whole file (policies, routes)."""
_VARIABLE = re.compile(r'^\s*variable\s+"([\w-]+)"', re.MULTILINE)


def _has_block(body: str, name: str) -> bool:
    return re.search(rf"^\s*{name}\s*(=\s*)?\{{", body, re.MULTILINE) is not None


def _insert(text: str, rtype: str, name: str, block: str, skip_if: str) -> tuple[str, bool]:
    start, close = block_span(text, rtype, name)
    if _has_block(text[start:close], skip_if):
        return text, False
    line_start = text.rfind("\n", 0, close) + 1
    indent = text[start:][: len(text[start:]) - len(text[start:].lstrip(" \t"))] + "  "
    lines = "".join(f"{indent}{line}\n" if line else "\n" for line in block.splitlines())
    if text[line_start:close].strip() == "":  # the closing brace stands on its own line
        return text[:line_start] + lines + text[line_start:], True
    return text[:close] + "\n" + lines + text[close:], True


def _split(comp_id: str) -> tuple[str, str] | None:
    parts = comp_id.split(".")
    return (parts[0], parts[1]) if len(parts) == 2 and parts[0].startswith("aws_") else None


def _wire(text: str, action: str, targets: list[tuple[str, str]], names: dict) -> tuple[str, list]:
    changed = []
    for rtype, name in targets:
        if action == "vpc_callers" and rtype == _FUNCTION:
            block = (
                "vpc_config {\n"
                f"  subnet_ids         = var.{names['bedrock_endpoint_subnet_ids']}\n"
                f"  security_group_ids = var.{names['bedrock_endpoint_security_group_ids']}\n"
                "}"
            )
            text, done = _insert(text, rtype, name, block, "vpc_config")
        elif action == "tracing" and rtype == _FUNCTION:
            block = 'tracing_config {\n  mode = "Active"\n}'
            text, done = _insert(text, rtype, name, block, "tracing_config")
        elif action == "workflow_timeout" and rtype == _MACHINE:
            text, done = _workflow_timeout(text, name, names)
        elif action == "tracing" and rtype == _MACHINE:
            block = "tracing_configuration {\n  enabled = true\n}"
            text, done = _insert(text, rtype, name, block, "tracing_configuration")
        elif action == "api_throttling" and rtype == "aws_apigatewayv2_stage":
            block = (
                "default_route_settings {\n"
                f"  throttling_rate_limit  = var.{names['api_throttling_rate_limit']}\n"
                f"  throttling_burst_limit = var.{names['api_throttling_burst_limit']}\n"
                "}"
            )
            text, done = _insert(text, rtype, name, block, "default_route_settings")
        elif action == "api_throttling" and rtype == "aws_api_gateway_stage":
            text, done = _method_settings(text, name, names)
        elif action == "data_expiry" and rtype == _TABLE:
            block = (
                "ttl {\n"
                f"  attribute_name = var.{names['expiry_attribute_name']}\n"
                "  enabled        = true\n"
                "}"
            )
            text, done = _insert(text, rtype, name, block, "ttl")
        elif action == "data_expiry" and rtype == _BUCKET:
            text, done = _bucket_expiry(text, name, names)
        elif action == "log_retention" and rtype == _FUNCTION:
            text, done = _function_log_group(text, name, names)
        elif action == "waf_association" and rtype == _REST_STAGE:
            text, done = _append(
                text,
                "aws_wafv2_web_acl_association",
                f"{name}_lens_waf",
                f"  resource_arn = aws_api_gateway_stage.{name}.arn\n"
                "  web_acl_arn  = aws_wafv2_web_acl.lens.arn\n",
            )
        elif action == "guardrail_agent" and rtype == _AGENT:
            block = (
                "guardrail_configuration {\n"
                "  guardrail_identifier = aws_bedrock_guardrail.lens.guardrail_id\n"
                "  guardrail_version    = aws_bedrock_guardrail.lens.version\n"
                "}"
            )
            text, done = _insert(text, rtype, name, block, "guardrail_configuration")
        else:
            continue
        if done:
            changed.append(f"{rtype}.{name}")
    return text, changed


def _append(text: str, rtype: str, name: str, body: str) -> tuple[str, bool]:
    """Append ``resource "rtype" "name" { body }``; refuse when the name is taken."""
    if ("resource", rtype, name) in declared_blocks(text):
        raise Unpatchable(f"the file already declares {rtype}.{name}")
    block = f'resource "{rtype}" "{name}" {{\n{body}}}\n'
    return text.rstrip("\n") + "\n\n" + block, True


def _refers(text: str, rtype: str, ref: str) -> bool:
    """Whether a ``rtype`` resource of ``text`` mentions ``ref`` (it already covers that one)."""
    for kind, found, name in declared_blocks(text):
        if kind == "resource" and found == rtype:
            start, close = block_span(text, found, name)
            if ref in text[start:close]:
                return True
    return False


def _bucket_expiry(text: str, bucket: str, names: dict) -> tuple[str, bool]:
    """Append a lifecycle configuration expiring the objects of ``bucket`` (none when it has one).

    Unfinished multipart uploads are aborted as well: checkov asks every rule for it.
    """
    start, close = block_span(text, _BUCKET, bucket)
    ref = f"aws_s3_bucket.{bucket}."
    lifecycle = "aws_s3_bucket_lifecycle_configuration"
    if _has_block(text[start:close], "lifecycle_rule") or _refers(text, lifecycle, ref):
        return text, False
    body = (
        f"  bucket = {ref}id\n"
        "  rule {\n"
        '    id     = "lens-expiry"\n'
        '    status = "Enabled"\n'
        "    filter {}\n"
        "    expiration {\n"
        f"      days = var.{names['object_expiration_days']}\n"
        "    }\n"
        "    abort_incomplete_multipart_upload {\n"
        "      days_after_initiation = 7\n"
        "    }\n"
        "  }\n"
    )
    return _append(text, lifecycle, f"{bucket}_lens_expiry", body)


def _function_log_group(text: str, function: str, names: dict) -> tuple[str, bool]:
    """Declare the log group of ``function`` with a retention and the key ``lens_logs``.

    None when the file declares it already, by reference or by the function's literal name.
    """
    start, close = block_span(text, _FUNCTION, function)
    group = f"/aws/lambda/${{aws_lambda_function.{function}.function_name}}"
    literal = re.search(r'^\s*function_name\s*=\s*"([\w-]+)"', text[start:close], re.MULTILINE)
    declared = literal and _refers(text, "aws_cloudwatch_log_group", f"/aws/lambda/{literal[1]}")
    if declared or _refers(text, "aws_cloudwatch_log_group", f"aws_lambda_function.{function}."):
        return text, False
    body = (
        f'  name              = "{group}"\n'
        f"  retention_in_days = var.{names['log_retention_days']}\n"
        "  kms_key_id        = aws_kms_key.lens_logs.arn\n"
    )
    return _append(text, "aws_cloudwatch_log_group", f"{function}_lens_logs", body)


def _workflow_timeout(text: str, machine: str, names: dict) -> tuple[str, bool]:
    """Put ``TimeoutSeconds`` first in a state machine definition written with ``jsonencode``.

    A definition read from a file (templatefile, file) or written as a heredoc is left alone.
    """
    start, close = block_span(text, _MACHINE, machine)
    body = text[start:close]
    opening = re.search(r"^\s*definition\s*=\s*jsonencode\(\{([ \t]*\n?[ \t]*)", body, re.MULTILINE)
    if opening is None or "TimeoutSeconds" in body:
        return text, False
    field = f"TimeoutSeconds = var.{names['workflow_timeout_seconds']}"
    if "\n" in opening[1]:  # one attribute a line: a line of its own, same indentation
        at, field = start + opening.end(1), field + opening[1]
    else:
        at, field = start + opening.start(1), f" {field},"
    return text[:at] + field + text[at:], True


def _method_settings(text: str, stage: str, names: dict) -> tuple[str, bool]:
    """Append an ``aws_api_gateway_method_settings`` throttling every method of ``stage``."""
    block_span(text, "aws_api_gateway_stage", stage)
    settings = f"{stage}_lens_throttle"
    if ("resource", "aws_api_gateway_method_settings", settings) in declared_blocks(text):
        raise Unpatchable(f"the file already declares aws_api_gateway_method_settings.{settings}")
    ref = f"aws_api_gateway_stage.{stage}"
    block = (
        f'resource "aws_api_gateway_method_settings" "{settings}" {{\n'
        f"  rest_api_id = {ref}.rest_api_id\n"
        f"  stage_name  = {ref}.stage_name\n"
        '  method_path = "*/*"\n'
        "  settings {\n"
        f"    throttling_rate_limit  = var.{names['api_throttling_rate_limit']}\n"
        f"    throttling_burst_limit = var.{names['api_throttling_burst_limit']}\n"
        "  }\n"
        "}\n"
    )
    return text.rstrip("\n") + "\n\n" + block, True


def _new_blocks(text: str, blocks: str | list | None) -> list[str]:
    """Return the HCL chunks of ``blocks`` that ``text`` does not hold yet, word for word.

    A chunk shared by two remedies (the key of the log groups) is thus added once when both
    apply; a different block under a taken name is still refused by the caller.
    """
    chunks = blocks if isinstance(blocks, list) else [blocks] if blocks else []
    return [str(c) for c in chunks if str(c).strip() not in text]


def _needed(chunks: list[str], text: str) -> list[str]:
    """Drop the building blocks (shared chunks) that nothing in ``text`` or the chunks uses.

    A remedy lists the key of the log groups for the groups its wires may declare, and the
    data sources of the model ARN for the statements it may narrow; when the wires change
    nothing that uses them, they would be blocks nobody needs.
    """
    shared = {str(v).strip() for k, v in remedies("terraform").items() if isinstance(v, str)}
    kept = []
    for index, chunk in enumerate(chunks):
        others = text + "".join(c for i, c in enumerate(chunks) if i != index)
        names = [
            f"{'data.' if m[1] == 'data' else ''}{m[2]}.{m[3]}." for m in DECLARED.finditer(chunk)
        ]
        if chunk.strip() not in shared or any(n in others for n in names):
            kept.append(chunk)
    return kept


def apply_terraform(text: str, remedy: dict, callers: list[str]) -> Patch:
    """Return ``text`` with ``remedy`` (one entry of terraform.yaml) applied.

    Args:
        text: the Terraform file.
        remedy: the remediation template.
        callers: component ids of the resources on the model path (``aws_lambda_function.x``).

    Raises:
        Unpatchable: a name the remedy adds is taken, or a block cannot be edited safely.
    """
    declared, variables = declared_blocks(text), set(_VARIABLE.findall(text))
    added_blocks = "\n".join(_new_blocks(text, remedy.get("blocks")))
    for kind, rtype, name in declared_blocks(added_blocks):
        if (kind, rtype, name) in declared:
            raise Unpatchable(f"the file already declares {kind} {rtype}.{name}")
    names = {}
    specs = {}
    for name, spec in (remedy.get("variables") or {}).items():
        if name in variables:
            raise Unpatchable(f"the file already declares variable {name}")
        names[name], specs[name] = name, spec
    targets = [t for t in map(_split, callers) if t]
    every = sorted({(rtype, name) for kind, rtype, name in declared if kind == "resource"})
    patch = Patch(text="", params=[])
    for action in remedy.get("wire") or []:
        if action in _FILE_WIRES:
            text, changed = _FILE_WIRES[action](text, names)
            patch.changed += changed
            continue
        chosen = every if action in ("guardrail_agent", "tracing") and not targets else targets
        if action in _KINDS:
            chosen = [t for t in every if t[0] in _KINDS[action]]
        text, changed = _wire(text, action, chosen, names)
        patch.changed += changed
        if action in _NEEDED and not changed:
            raise Unpatchable(_NEEDED[action])
    added_blocks = "\n".join(_needed(_new_blocks(text, remedy.get("blocks")), text))
    parts = []
    for name, spec in specs.items():  # only the variables the patch uses
        if f"var.{name}" not in text + added_blocks:
            continue
        patch.params.append(name)
        default = f"  default     = {json.dumps(spec['default'])}\n" if "default" in spec else ""
        parts.append(
            f'variable "{name}" {{\n  type        = {spec["type"]}\n'
            f'  description = "{spec["description"]}"\n{default}}}\n'
        )
    patch.added = [f"{m.group(2)}.{m.group(3)}" for m in DECLARED.finditer(added_blocks)]
    tail = "\n".join(parts + ([added_blocks] if added_blocks else []))
    if tail:
        text = text.rstrip("\n") + "\n\n" + tail
    patch.text = text if text.endswith("\n") else text + "\n"
    return patch
