"""Apply one remediation template to a Terraform file by inserting HCL text.

Blocks are appended at the end and small blocks are inserted before the closing brace of the
resources they change, so the rest of the file is left byte for byte as it was.
"""

from __future__ import annotations

import re

from diagrams.fixes.cfn_patch import Patch, Unpatchable

_FUNCTION = "aws_lambda_function"
_MACHINE = "aws_sfn_state_machine"
_AGENT = "aws_bedrockagent_agent"
_STAGES = ("aws_api_gateway_stage", "aws_apigatewayv2_stage")
_DECLARED = re.compile(r'^\s*(resource|data)\s+"([\w-]+)"\s+"([\w-]+)"', re.MULTILINE)
_VARIABLE = re.compile(r'^\s*variable\s+"([\w-]+)"', re.MULTILINE)


def block_span(text: str, rtype: str, name: str) -> tuple[int, int]:
    """Return (start, index of the closing brace) of ``resource "rtype" "name" { ... }``.

    Raises:
        Unpatchable: the block is missing or its braces cannot be matched safely.
    """
    header = re.search(rf'^[ \t]*resource\s+"{rtype}"\s+"{name}"\s*\{{', text, re.MULTILINE)
    if header is None:
        raise Unpatchable(f"cannot find resource {rtype}.{name} in the file")
    depth, i = 1, header.end()
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _string_end(text, i)
        elif char == "#" or text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("<<", i):
            raise Unpatchable(f"{rtype}.{name} holds a heredoc, which lenswise does not edit")
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return header.start(), i
        i += 1
    raise Unpatchable(f"the braces of {rtype}.{name} do not balance")


def _string_end(text: str, start: int) -> int:
    i, depth = start + 1, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}" and depth:
            depth -= 1
        elif text[i] == '"' and not depth:
            return i
        elif text[i] == "\n" and not depth:
            break
        i += 1
    raise Unpatchable("a string in the file does not close on its line")


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


def _declared(text: str) -> set[tuple[str, str, str]]:
    return {(m.group(1), m.group(2), m.group(3)) for m in _DECLARED.finditer(text)}


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


def _method_settings(text: str, stage: str, names: dict) -> tuple[str, bool]:
    """Append an ``aws_api_gateway_method_settings`` throttling every method of ``stage``."""
    block_span(text, "aws_api_gateway_stage", stage)
    settings = f"{stage}_lens_throttle"
    if ("resource", "aws_api_gateway_method_settings", settings) in _declared(text):
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


def apply_terraform(text: str, remedy: dict, callers: list[str]) -> Patch:
    """Return ``text`` with ``remedy`` (one entry of terraform.yaml) applied.

    Args:
        text: the Terraform file.
        remedy: the remediation template.
        callers: component ids of the resources on the model path (``aws_lambda_function.x``).

    Raises:
        Unpatchable: a name the remedy adds is taken, or a block cannot be edited safely.
    """
    declared, variables = _declared(text), set(_VARIABLE.findall(text))
    added_blocks = str(remedy.get("blocks") or "")
    for kind, rtype, name in _declared(added_blocks):
        if (kind, rtype, name) in declared:
            raise Unpatchable(f"the file already declares {kind} {rtype}.{name}")
    names = {}
    parts = []
    for name, spec in (remedy.get("variables") or {}).items():
        if name in variables:
            raise Unpatchable(f"the file already declares variable {name}")
        names[name] = name
        parts.append(
            f'variable "{name}" {{\n  type        = {spec["type"]}\n'
            f'  description = "{spec["description"]}"\n}}\n'
        )
    targets = [t for t in map(_split, callers) if t]
    every = sorted({(rtype, name) for kind, rtype, name in declared if kind == "resource"})
    patch = Patch(text="", params=list(names))
    for action in remedy.get("wire") or []:
        chosen = every if action in ("guardrail_agent", "tracing") and not targets else targets
        if action == "guardrail_agent":
            chosen = [t for t in every if t[0] == _AGENT]
        if action == "api_throttling":
            chosen = [t for t in every if t[0] in _STAGES]
        text, changed = _wire(text, action, chosen, names)
        patch.changed += changed
        if action == "api_throttling" and not changed:
            raise Unpatchable("no API stage in the file to set throttling on")
    patch.added = [f"{rtype}.{name}" for _, rtype, name in _declared(added_blocks)]
    tail = "\n".join(parts + ([added_blocks] if added_blocks else []))
    if tail:
        text = text.rstrip("\n") + "\n\n" + tail
    patch.text = text if text.endswith("\n") else text + "\n"
    return patch
