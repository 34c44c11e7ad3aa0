"""Terraform access fixes: narrowed Bedrock statements, closed API routes and collections.

Each function edits the file as text (see tf_patch) and returns the new text with the
``type.name`` of every block it changed; the names of the variables come in ``names``.
"""

from __future__ import annotations

import re

from diagrams.fixes.cfn_patch import Unpatchable
from diagrams.fixes.hcl import block_span, declared_blocks
from diagrams.fixes.library import remedies

_POLICIES = ("aws_iam_role", "aws_iam_policy", "aws_iam_role_policy")
"""Resources whose policy (jsonencode or JSON text) may hold Bedrock statements."""
_ANY = re.compile(r'\b(Resource"?\s*[=:]\s*)(\[\s*"\*"\s*\]|"\*")')
_ANY_DOCUMENT = re.compile(r'\b(resources\s*=\s*)\[\s*"\*"\s*\]')
_ACTION = re.compile(r'"([a-z0-9-]+):[A-Za-z*]+"')
_FULL_ACCESS = "AmazonBedrockFullAccess"
_ATTACHMENT = "aws_iam_role_policy_attachment"


def model_arn(names: dict[str, str]) -> str:
    """Return the HCL string of the ARN of the model named by the variable ``bedrock_model_id``."""
    return (
        '"arn:${data.aws_partition.lens_models.partition}:bedrock:'
        "${data.aws_region.lens_models.name}::foundation-model/"
        f'${{var.{names["bedrock_model_id"]}}}"'
    )


def _enclosing(text: str, at: int) -> tuple[int, int]:
    """Return the span of the innermost ``{ ... }`` around ``at`` (interpolations balance)."""
    depth, start = 0, at
    while start > 0:
        start -= 1
        if text[start] == "}":
            depth += 1
        elif text[start] == "{":
            if depth == 0:
                break
            depth -= 1
    depth, end = 0, start
    while end < len(text):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return start, end
        end += 1
    raise Unpatchable("the braces of a policy statement do not balance")


def _bedrock_only(statement: str) -> bool:
    services = set(_ACTION.findall(statement))
    return services == {"bedrock"} and "Deny" not in statement and "Condition" not in statement


def narrow_bedrock(text: str, names: dict[str, str]) -> tuple[str, list[str]]:
    """Point Bedrock-only statements on ``*`` at the model ARN; replace AmazonBedrockFullAccess.

    A statement that mixes services keeps its ``*`` (the re-review then refuses the fix).
    """
    changed = []
    for kind, rtype, name in sorted(declared_blocks(text)):
        if (kind, rtype) in (("resource", t) for t in _POLICIES):
            pattern, arn = _ANY, model_arn(names)
        elif (kind, rtype) == ("data", "aws_iam_policy_document"):
            pattern, arn = _ANY_DOCUMENT, f"[{model_arn(names)}]"
        else:
            continue
        start, close = block_span(text, rtype, name, kind)
        body = text[start:close]
        for match in reversed(list(pattern.finditer(body))):
            lo, hi = _enclosing(body, match.start())
            if _bedrock_only(body[lo:hi]):
                body = body[: match.start(2)] + arn + body[match.end(2) :]
        if body != text[start:close]:
            text = text[:start] + body + text[close:]
            changed.append(f"{rtype}.{name}" if kind == "resource" else f"data.{rtype}.{name}")
    for _, rtype, name in sorted(
        t for t in declared_blocks(text) if t[:2] == ("resource", _ATTACHMENT)
    ):
        text, done = _inline_full_access(text, name, names)
        changed += [f"{_ATTACHMENT}.{name}"] if done else []
    return text, changed


def _inline_full_access(text: str, name: str, names: dict[str, str]) -> tuple[str, bool]:
    """Replace an attachment of AmazonBedrockFullAccess with an inline model-invocation policy.

    The attachment's own name is kept for the new ``aws_iam_role_policy``; an attachment that
    repeats (count, for_each) or that other blocks refer to is left for the team.
    """
    start, close = block_span(text, _ATTACHMENT, name)
    body = text[start:close]
    if _FULL_ACCESS not in body:
        return text, False
    role = re.search(r"^\s*role\s*=\s*(.+?)\s*$", body, re.MULTILINE)
    if role is None or re.search(r"^\s*(count|for_each)\s*=", body, re.MULTILINE):
        raise Unpatchable(f"{_ATTACHMENT}.{name} repeats or names no role")
    if f"{_ATTACHMENT}.{name}" in text[:start] + text[close:]:
        raise Unpatchable(f"other blocks refer to {_ATTACHMENT}.{name}")
    if ("resource", "aws_iam_role_policy", name) in declared_blocks(text):
        raise Unpatchable(f"the file already declares aws_iam_role_policy.{name}")
    policy = (
        f'resource "aws_iam_role_policy" "{name}" {{\n'
        f'  name = "bedrock-model-access"\n'
        f"  role = {role[1]}\n"
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [\n"
        "      {\n"
        '        Effect   = "Allow"\n'
        '        Action   = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]\n'
        f"        Resource = {model_arn(names)}\n"
        "      }\n"
        "    ]\n"
        "  })\n"
    )
    return text[:start] + policy + text[close:], True


_OPEN = {
    "aws_api_gateway_method": "authorization",
    "aws_apigatewayv2_route": "authorization_type",
    "aws_lambda_function_url": "authorization_type",
}
"""Resources that can leave an API route open, and the argument that closes it."""


def api_auth(text: str, _names: dict[str, str]) -> tuple[str, list[str]]:
    """Require IAM (SigV4) authorization on every open API route and function URL."""
    changed = []
    for kind, rtype, name in sorted(declared_blocks(text)):
        if kind != "resource" or rtype not in _OPEN:
            continue
        start, close = block_span(text, rtype, name)
        body = text[start:close]
        if re.search(r'http_method\s*=\s*"OPTIONS"|api_key_required\s*=\s*true', body):
            continue
        setting = re.search(rf'^(\s*{_OPEN[rtype]}\s*=\s*)"(\w+)"', body, re.MULTILINE)
        if setting and setting[2] == "NONE":
            body = body[: setting.start(2)] + "AWS_IAM" + body[setting.end(2) :]
        elif setting is None and rtype == "aws_apigatewayv2_route":
            line_start = body.rfind("\n") + 1
            body = body[:line_start] + f'  {_OPEN[rtype]} = "AWS_IAM"\n' + body[line_start:]
        else:
            continue
        text = text[:start] + body + text[close:]
        changed.append(f"{rtype}.{name}")
    return text, changed


_PUBLIC = re.compile(r'(AllowFromPublic("?)\s*([=:])\s*)true')
_AOSS_ALL = re.compile(r'\[\s*"(?:aoss:)?\*"\s*\]')
_RESOURCE_TYPE = re.compile(r'ResourceType"?\s*[=:]\s*"(\w+)"')
_AOSS_POLICIES = (
    "aws_opensearchserverless_security_policy",
    "aws_opensearchserverless_access_policy",
)


def aoss_private(text: str, _names: dict[str, str]) -> tuple[str, list[str]]:
    """Admit only Bedrock to public collections; narrow ``aoss:*`` to each rule's resource type.

    The permissions per resource type are the ones the CloudFormation fix uses (policies are
    the same JSON in both formats).
    """
    permissions = remedies()["AossPermissions"]
    changed = []
    for kind, rtype, name in sorted(declared_blocks(text)):
        if kind != "resource" or rtype not in _AOSS_POLICIES:
            continue
        start, close = block_span(text, rtype, name)
        body = _PUBLIC.sub(_bedrock_source, text[start:close])
        for match in reversed(list(_AOSS_ALL.finditer(body))):
            lo, hi = _enclosing(body, match.start())
            found = _RESOURCE_TYPE.search(body[lo:hi])
            wanted = permissions.get(found[1].lower()) if found else None
            if wanted:
                listed = ", ".join(f'"{p}"' for p in wanted)
                body = body[: match.start()] + f"[{listed}]" + body[match.end() :]
        if body != text[start:close]:
            text = text[:start] + body + text[close:]
            changed.append(f"{rtype}.{name}")
    return text, changed


def _bedrock_source(match: re.Match) -> str:
    """Return ``AllowFromPublic = false`` followed by Bedrock as the one source service."""
    key = f"{match[2]}SourceServices{match[2]}" + (" =" if match[3] == "=" else ":")
    line = match.string[match.string.rfind("\n", 0, match.start()) + 1 : match.start()]
    if match.string.startswith("\n", match.end()) and not line.strip():  # one a line
        return f'{match[1]}false\n{line}{key} ["bedrock.amazonaws.com"]'
    return f'{match[1]}false, {key} ["bedrock.amazonaws.com"]'
