"""Apply one remediation template to a CloudFormation/SAM template, keeping its formatting.

YAML goes through a round-trip loader (comments, key order and short-form tags survive) and
only the changed lines replace the original ones; JSON keeps its key order and indentation.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from corpus.errors import InputError
from diagrams.cloudformation import load_template
from diagrams.fixes.library import remedies
from diagrams.limits import Budget, Limits

_TAGS = {
    "!Ref",
    "!Condition",
    "!GetAtt",
    "!Sub",
    "!Join",
    "!Select",
    "!Split",
    "!FindInMap",
    "!Base64",
    "!Cidr",
    "!ImportValue",
    "!GetAZs",
    "!If",
    "!Equals",
    "!And",
    "!Or",
    "!Not",
}
_FUNCTIONS = ("AWS::Lambda::Function", "AWS::Serverless::Function")
_MACHINES = ("AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine")
_SERVERLESS = "AWS::Serverless-2016-10-31"


class Unpatchable(Exception):
    """The template cannot be patched safely; the message says why."""


@dataclass
class Patch:
    """What applying a remedy changed."""

    text: str
    params: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    """Logical ids of the resources added."""
    changed: list[str] = field(default_factory=list)
    """Logical ids of the existing resources edited."""


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


class Document:
    """A loaded template that can be edited and written back in its own style."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.is_json = text.lstrip().startswith("{")
        self.data = copy.deepcopy(_loaded(text))
        if not isinstance(self.data, dict) or not isinstance(self.data.get("Resources"), dict):
            raise Unpatchable("the file has no Resources section to patch")
        self._check_unusual()

    def _check_unusual(self) -> None:
        transform = self.data.get("Transform")
        names = transform if isinstance(transform, list) else [transform]
        others = [str(n) for n in names if n not in (None, _SERVERLESS)]
        if others:
            raise Unpatchable(f"the template uses the transform/macro {others[0][:60]}")
        for node in _walk(self.data):
            if isinstance(node, dict) and "Fn::Transform" in node:
                raise Unpatchable("the template calls a macro (Fn::Transform)")
            tag = getattr(getattr(node, "tag", None), "value", None)
            if tag and tag.startswith("!") and tag not in _TAGS:
                raise Unpatchable(f"the template uses the unusual tag {tag[:40]}")

    @property
    def resources(self) -> dict:
        """The Resources map (edited in place)."""
        return self.data["Resources"]

    def fresh_id(self, wanted: str) -> str:
        """Return ``wanted``, or ``wanted`` with a number when the template already uses it."""
        taken = set(self.resources) | set(self.data.get("Parameters") or {})
        name, n = wanted, 2
        while name in taken:
            name, n = f"{wanted}{n}", n + 1
        return name

    def node(self, value: Any) -> Any:
        """Convert a value from the remedies file into this document's style."""
        return copy.deepcopy(value) if not self.is_json else _long_form(value)

    def dump(self) -> str:
        """Return the edited template as text, changing as few original lines as possible."""
        if self.is_json:
            return _dump_json(self.data, self.text)
        yaml = _indented_yaml(self.text)
        original = _redumped(self.text)
        edited = _dump(yaml, self.data)
        spliced = _splice(self.text, original, edited)
        return spliced if _same_template(spliced, edited) else edited  # the splice lost nothing


def _same_template(one: str, other: str) -> bool:
    """Return True when two YAML texts hold the same template, read as the review reads it.

    The review's loader (libyaml) reads a template ten times faster than the round-trip one.
    """
    limits = Budget(Limits())
    try:
        return load_template(one, limits) == load_template(other, limits)
    except InputError:
        return False


@lru_cache(maxsize=8)
def _loaded(text: str) -> Any:
    """Parse a template once per text; each :class:`Document` edits its own deep copy."""
    try:
        return json.loads(text) if text.lstrip().startswith("{") else _yaml().load(text)
    except (json.JSONDecodeError, YAMLError) as exc:
        raise Unpatchable(f"the template cannot be read for patching ({exc})") from None


def _walk(value: Any):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _long_form(value: Any) -> Any:
    """Turn short-form tags (``!Ref X``) into JSON-style functions (``{"Ref": "X"}``)."""
    tag = getattr(getattr(value, "tag", None), "value", None)
    if isinstance(value, dict):
        plain = {str(k): _long_form(v) for k, v in value.items()}
    elif isinstance(value, list):
        plain = [_long_form(v) for v in value]
    elif isinstance(value, TaggedScalar):
        plain = value.value
    else:
        plain = value
    if not tag or not tag.startswith("!"):
        return plain
    name = tag[1:]
    if name == "GetAtt" and isinstance(plain, str):
        plain = plain.split(".", 1)
    return {name if name in ("Ref", "Condition") else f"Fn::{name}": plain}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(_long_form(value), default=str))


def _indented_yaml(text: str) -> YAML:
    yaml = _yaml()
    yaml.indent(**_indents(text))
    return yaml


@lru_cache(maxsize=8)
def _indents(text: str) -> dict[str, int]:
    """Return the file's indentation; guessing it parses the whole file, so once per text."""
    _, seq_indent, offset = load_yaml_guess_indent(text)
    widths = [len(m.group(1)) for m in re.finditer(r"^\S[^\n]*:\s*\n( +)\S", text, re.M)]
    return {"mapping": min(widths, default=2), "sequence": seq_indent or 2, "offset": offset or 0}


@lru_cache(maxsize=8)
def _redumped(text: str) -> str:
    """Return ``text`` as the YAML library writes it (the same for every fix of one file)."""
    yaml = _indented_yaml(text)
    return _dump(yaml, yaml.load(text))


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _splice(text: str, original: str, edited: str) -> str:
    """Apply the changes between two dumps to the source text, line by line.

    ``original`` is the source as the YAML library writes it (same content, maybe other
    spacing); lines it left alone are copied from ``text`` so their formatting survives.
    """
    source, ours, theirs = text.splitlines(True), original.splitlines(True), edited.splitlines(True)
    owner: list[list[str]] = [[] for _ in ours]
    pending: list[str] = []
    matcher = difflib.SequenceMatcher(
        None, [s.strip() for s in source], [o.strip() for o in ours], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                owner[j1 + k] = [*pending, source[i1 + k]]
                pending = []
        elif j2 > j1:
            owner[j1] = [*pending, *source[i1:i2]]
            pending = []
        else:
            pending.extend(source[i1:i2])
    lines: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, ours, theirs, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            lines += [line for k in range(i1, i2) for line in owner[k]]
        else:
            lines += theirs[j1:j2]
    return "".join(lines + pending)


def _dump_json(data: dict, text: str) -> str:
    match = re.search(r"\n([ \t]+)\"", text)
    indent = match.group(1) if match else None
    out = json.dumps(data, indent=indent, ensure_ascii=False)
    return out + ("\n" if text.endswith("\n") else "")


def model_callers(doc: Document, ids: list[str]) -> list[str]:
    """Return the functions among ``ids``, or those using a role or policy among them."""
    found: list[str] = []
    for logical_id in ids:
        resource = doc.resources.get(logical_id)
        if not isinstance(resource, dict):
            continue
        if resource.get("Type") in _FUNCTIONS:
            found.append(logical_id)
            continue
        for other_id, other in doc.resources.items():
            if isinstance(other, dict) and other.get("Type") in _FUNCTIONS:
                if logical_id in json.dumps(_plain(other.get("Properties") or {})):
                    found.append(str(other_id))
    return list(dict.fromkeys(found))


def apply_remedy(doc: Document, remedy: dict, callers: list[str], dump: bool = True) -> Patch:
    """Apply ``remedy`` (one entry of remedies.yaml) to ``doc`` in place; return what changed.

    With ``dump=False`` the patch has no text: several remedies can be applied to one
    document and written once with :meth:`Document.dump`.
    """
    names: dict[str, str] = {}
    patch = Patch(text="")
    for name, spec in (remedy.get("parameters") or {}).items():
        names[name] = doc.fresh_id(name)
        params = doc.data.setdefault("Parameters", CommentedMap() if not doc.is_json else {})
        params[names[name]] = doc.node(spec)
        patch.params.append(names[name])
    for logical_id in remedy.get("resources") or {}:
        names[logical_id] = doc.fresh_id(logical_id)
    for logical_id, body in (remedy.get("resources") or {}).items():
        doc.resources[names[logical_id]] = doc.node(_renamed(body, names))
        patch.added.append(names[logical_id])
    for action in remedy.get("wire") or []:
        patch.changed += WIRES[action](doc, callers, names)
    patch.changed = list(dict.fromkeys(patch.changed))
    if remedy.get("wire") and not patch.changed and not patch.added:
        raise Unpatchable("nothing in the template matches what the fix changes")
    _drop_unused(doc, patch)
    patch.text = doc.dump() if dump else ""
    return patch


def _drop_unused(doc: Document, patch: Patch) -> None:
    """Remove the parameters a remedy added that no wire ended up using."""
    used = json.dumps(_plain({k: v for k, v in doc.data.items() if k != "Parameters"}))
    for name in list(patch.params):
        if not re.search(rf"\b{name}\b", used):
            del doc.data["Parameters"][name]
            patch.params.remove(name)
    if "Parameters" in doc.data and not doc.data["Parameters"]:
        del doc.data["Parameters"]


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """Return a copy of ``value`` with logical ids in references renamed."""
    value = copy.deepcopy(value)
    for node in _walk(value):
        if isinstance(node, TaggedScalar) and node.tag.value in ("!Ref", "!GetAtt", "!Sub"):
            for old, new in names.items():
                if old != new:
                    node.value = re.sub(rf"\b{old}\b", new, node.value)
    return value


def _bare(value: Any) -> Any:
    """Return ``value`` without the comments of the remedies file (they follow the last key)."""
    for node in _walk(value):
        if isinstance(node, CommentedMap | CommentedSeq):
            node.ca.items.clear()
            node.ca.end, node.ca.comment = [], None
    return value


def _props(doc: Document, logical_id: str) -> dict[str, Any]:
    resource = doc.resources[logical_id]
    if "Properties" not in resource:
        resource["Properties"] = CommentedMap() if not doc.is_json else {}
    return resource["Properties"]


def _tagged(doc: Document, tag: str, value: str) -> Any:
    return doc.node(TaggedScalar(value=value, tag=tag))


def _vpc_callers(doc: Document, callers: list[str], names: dict[str, str]) -> list[str]:
    changed = []
    for logical_id in callers:
        props = _props(doc, logical_id)
        if props.get("VpcConfig"):
            continue
        config = CommentedMap() if not doc.is_json else {}
        config["SubnetIds"] = _tagged(doc, "!Ref", names["BedrockEndpointSubnetIds"])
        config["SecurityGroupIds"] = _tagged(doc, "!Ref", names["BedrockEndpointSecurityGroupIds"])
        props["VpcConfig"] = config
        changed.append(logical_id)
    return changed


def _guardrail_env(doc: Document, callers: list[str], names: dict[str, str]) -> list[str]:
    guardrail = names["LensGuardrail"]
    for logical_id in callers:
        props = _props(doc, logical_id)
        env: Any = props.setdefault("Environment", CommentedMap() if not doc.is_json else {})
        variables = env.setdefault("Variables", CommentedMap() if not doc.is_json else {})
        variables["GUARDRAIL_ID"] = _tagged(doc, "!GetAtt", f"{guardrail}.GuardrailId")
        variables["GUARDRAIL_VERSION"] = _tagged(doc, "!GetAtt", f"{guardrail}.Version")
    return list(callers)


def _role_of(doc: Document, logical_id: str) -> str | None:
    """Return the logical id of the template's IAM role a function runs as, if it has one."""
    role = _plain(_props(doc, logical_id).get("Role"))
    target = role.get("Fn::GetAtt") if isinstance(role, dict) else None
    name = target[0] if isinstance(target, list) and target else None
    resource = doc.resources.get(name) if name else None
    is_role = isinstance(resource, dict) and resource.get("Type") == "AWS::IAM::Role"
    return name if is_role else None


def _grant_decrypt(doc: Document, logical_id: str, key: str) -> str:
    """Let a function read its environment key; return the resource that was changed."""
    props = _props(doc, logical_id)
    if doc.resources[logical_id].get("Type") == _FUNCTIONS[1] and not props.get("Role"):
        policies = props.get("Policies")
        policies = [] if policies is None else policies
        policies = policies if isinstance(policies, list) else [policies]
        grant = CommentedMap() if not doc.is_json else {}
        grant["KMSDecryptPolicy"] = CommentedMap() if not doc.is_json else {}
        grant["KMSDecryptPolicy"]["KeyId"] = _tagged(doc, "!Ref", key)
        props["Policies"] = [*policies, grant]
        return logical_id
    role = _role_of(doc, logical_id)
    if role is None:
        raise Unpatchable(f"cannot tell which role of the template {logical_id} runs as")
    statement = {"Effect": "Allow", "Action": "kms:Decrypt"}
    statement["Resource"] = _tagged(doc, "!GetAtt", f"{key}.Arn")
    policy = CommentedMap() if not doc.is_json else {}
    policy["PolicyName"] = f"{key}Decrypt"
    policy["PolicyDocument"] = {"Version": "2012-10-17", "Statement": [statement]}
    role_props = _props(doc, role)
    role_props["Policies"] = [*(role_props.get("Policies") or []), doc.node(policy)]
    return role


def _encrypt_env(doc: Document, callers: list[str], names: dict[str, str]) -> list[str]:
    """Encrypt the environment of functions given new variables with a customer-managed key.

    Lambda encrypts environment variables with an AWS managed key; scanners (checkov
    CKV_AWS_173) ask for a customer-managed one, so a fix that adds variables adds the key too.
    """
    targets = [i for i in callers if not _props(doc, i).get("KmsKeyArn")]
    if not targets:
        return []
    key = doc.fresh_id("LensEnvironmentKey")
    doc.resources[key] = doc.node(remedies()["EnvironmentKey"])
    changed = [key]
    for logical_id in targets:
        _props(doc, logical_id)["KmsKeyArn"] = _tagged(doc, "!GetAtt", f"{key}.Arn")
        changed += [logical_id, _grant_decrypt(doc, logical_id, key)]
    return changed


def _guardrail_agent(doc: Document, _callers: list[str], names: dict[str, str]) -> list[str]:
    changed = []
    for logical_id, resource in doc.resources.items():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Bedrock::Agent":
            props = _props(doc, str(logical_id))
            if props.get("GuardrailConfiguration"):
                continue
            config = CommentedMap() if not doc.is_json else {}
            config["GuardrailIdentifier"] = _tagged(
                doc, "!GetAtt", f"{names['LensGuardrail']}.GuardrailId"
            )
            config["GuardrailVersion"] = _tagged(
                doc, "!GetAtt", f"{names['LensGuardrail']}.Version"
            )
            props["GuardrailConfiguration"] = config
            changed.append(str(logical_id))
    return changed


def _tracing(doc: Document, callers: list[str], _names: dict[str, str]) -> list[str]:
    changed = []
    targets = callers or [
        str(i)
        for i, r in doc.resources.items()
        if isinstance(r, dict) and r.get("Type") in _FUNCTIONS
    ]
    for logical_id in targets:
        kind = doc.resources[logical_id].get("Type")
        props = _props(doc, logical_id)
        if kind == "AWS::Serverless::Function":
            props["Tracing"] = "Active"
        else:
            config = CommentedMap() if not doc.is_json else {}
            config["Mode"] = "Active"
            props["TracingConfig"] = config
        changed.append(logical_id)
    for logical_id, resource in doc.resources.items():
        if isinstance(resource, dict) and resource.get("Type") in _MACHINES:
            key = (
                "Tracing"
                if resource["Type"].startswith("AWS::Serverless")
                else "TracingConfiguration"
            )
            config = CommentedMap() if not doc.is_json else {}
            config["Enabled"] = True
            _props(doc, str(logical_id))[key] = config
            changed.append(str(logical_id))
    return changed


def _bedrock_only(actions: list) -> tuple[list, list]:
    bedrock = [a for a in actions if str(a).startswith("bedrock:")]
    return bedrock, [a for a in actions if a not in bedrock]


def _narrow_bedrock(doc: Document, _callers: list[str], names: dict[str, str]) -> list[str]:
    """Point Bedrock statements on ``*`` at the model ARN; split statements that mix services."""
    model = "${" + names["BedrockModelId"] + "}"
    arn = "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/" + model
    changed = []
    for logical_id, resource in doc.resources.items():
        for statements in [n for n in _walk(resource) if isinstance(n, list)]:
            for index, node in reversed(list(enumerate(statements))):
                if not isinstance(node, dict) or node.get("Resource") not in ("*", ["*"]):
                    continue
                actions = node.get("Action")
                actions = actions if isinstance(actions, list) else [actions]
                bedrock = [a for a in actions if str(a).startswith("bedrock:")]
                if node.get("Effect") != "Allow" or not bedrock or "Condition" in node:
                    continue
                if len(bedrock) < len(actions):  # the other services keep `*`
                    node["Action"] = [a for a in actions if a not in bedrock]
                    node = copy.deepcopy(node)
                    node["Action"] = bedrock
                    statements.insert(index + 1, node)
                node["Resource"] = _tagged(doc, "!Sub", arn)
                changed.append(str(logical_id))
    changed += _drop_full_access(doc, names)
    if changed:
        _default_model(doc, names["BedrockModelId"])
    return list(dict.fromkeys(changed))


_MODEL_IN_ARN = re.compile(r"foundation-model/([\w.:-]+)")
_FOUNDATION_ID = re.compile(r"[a-z0-9-]+\.[\w-]+(:\d+)?")
"""A foundation model id (provider.model); inference profiles (us.provider.model) differ."""


def _default_model(doc: Document, param: str) -> None:
    """Default the model parameter to the one model the template names, if it names one.

    Agents name theirs (FoundationModel) and scoped statements name theirs in an ARN; with
    two or more, or none, the team picks (a default is never guessed).
    """
    found = set()
    for resource in doc.resources.values():
        props = (resource.get("Properties") or {}) if isinstance(resource, dict) else {}
        model = props.get("FoundationModel") if _is(resource, "AWS::Bedrock::Agent") else None
        if isinstance(model, str) and _FOUNDATION_ID.fullmatch(model):
            found.add(model)
        text = json.dumps(_plain(props))
        found.update(m for m in _MODEL_IN_ARN.findall(text) if "$" not in m)
    if len(found) == 1:
        doc.data["Parameters"][param]["Default"] = found.pop()


_FULL_ACCESS = "AmazonBedrockFullAccess"


def _drop_full_access(doc: Document, names: dict[str, str]) -> list[str]:
    """Replace AmazonBedrockFullAccess on roles and SAM functions with model invocation only.

    The managed policy allows every Bedrock action on every resource; the inline statement
    (BedrockModelStatement) keeps what a model caller needs, on the model's ARN.
    """
    statement = doc.node(_bare(_renamed(remedies()["BedrockModelStatement"], names)))
    changed = []
    for logical_id, resource in doc.resources.items():
        kind = resource.get("Type") if isinstance(resource, dict) else None
        key = {"AWS::IAM::Role": "ManagedPolicyArns", _FUNCTIONS[1]: "Policies"}.get(str(kind))
        listed = (resource.get("Properties") or {}).get(key) if key else None
        if not isinstance(listed, list):
            continue
        full = [i for i, p in enumerate(listed) if _FULL_ACCESS in json.dumps(_plain(p))]
        for index in reversed(full):  # one item at a time: the others keep their comments
            del listed[index]
        if not full:
            continue
        props = _props(doc, str(logical_id))
        if kind == "AWS::IAM::Role":
            policy = CommentedMap() if not doc.is_json else {}
            policy["PolicyName"] = "BedrockModelAccess"
            policy["PolicyDocument"] = {"Version": "2012-10-17", "Statement": [statement]}
            props["Policies"] = [*(props.get("Policies") or []), doc.node(policy)]
            if not listed and key:
                del props[key]
        else:
            listed.append(doc.node({"Statement": [statement]}))
        changed.append(str(logical_id))
    return changed


def _api_auth(doc: Document, _callers: list[str], _names: dict[str, str]) -> list[str]:
    """Require IAM (SigV4) authorization on every API route and function URL left open."""
    changed = []
    for logical_id, resource in doc.resources.items():
        kind = str(resource.get("Type")) if isinstance(resource, dict) else ""
        props = _props(doc, str(logical_id)) if kind in _OPEN_KEYS else {}
        if kind in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
            if _iam_default(doc, props, kind.rsplit("::", 1)[1]):
                changed.append(str(logical_id))
        elif kind in _OPEN_KEYS and _open(props, kind):
            props[_OPEN_KEYS[kind]] = "AWS_IAM"
            changed.append(str(logical_id))
    for kind in _implicit_apis(doc):
        globals_ = doc.data.setdefault("Globals", CommentedMap() if not doc.is_json else {})
        api = globals_.setdefault(kind, CommentedMap() if not doc.is_json else {})
        if _iam_default(doc, api, kind):
            changed.append(f"Globals.{kind}")
    return changed


_OPEN_KEYS = {
    "AWS::Serverless::Api": "Auth",
    "AWS::Serverless::HttpApi": "Auth",
    "AWS::ApiGateway::Method": "AuthorizationType",
    "AWS::ApiGatewayV2::Route": "AuthorizationType",
    "AWS::Lambda::Url": "AuthType",
}
"""Resources that can leave an API route open, and the property that closes it."""


_API_AUTH = ("DefaultAuthorizer", "ApiKeyRequired", "ResourcePolicy")
"""Settings of a SAM API's Auth that already decide who may call it."""


def _open(props: dict, kind: str) -> bool:
    if kind == "AWS::ApiGateway::Method" and str(props.get("HttpMethod")).upper() == "OPTIONS":
        return False
    return props.get(_OPEN_KEYS[kind]) in (None, "NONE")


def _iam_default(doc: Document, holder: dict, kind: str) -> bool:
    """Make IAM the default authorizer of a SAM API (or its Globals); False when one is set."""
    auth = holder.get("Auth")
    if isinstance(auth, dict) and any(auth.get(k) for k in _API_AUTH):
        return False
    if not isinstance(auth, dict):
        auth = holder["Auth"] = CommentedMap() if not doc.is_json else {}
    if kind == "HttpApi":
        auth["EnableIamAuthorizer"] = True
    auth["DefaultAuthorizer"] = "AWS_IAM"
    return True


def _rest_stages(doc: Document) -> list[tuple[str, str, str]]:
    """Return (API logical id, stage name in ``!Sub`` syntax, stage resource) per REST stage."""
    found = []
    for logical_id, resource in doc.resources.items():
        kind = resource.get("Type") if isinstance(resource, dict) else None
        props = _plain(resource.get("Properties") or {}) if kind else {}
        if kind == "AWS::ApiGateway::Stage" and isinstance(props.get("RestApiId"), dict):
            api = props["RestApiId"].get("Ref")
            if isinstance(api, str):
                found.append((api, "${" + str(logical_id) + "}", str(logical_id)))
        elif kind == _DEPLOYMENT and isinstance(props.get("RestApiId"), dict):
            api, name = props["RestApiId"].get("Ref"), props.get("StageName")
            if isinstance(api, str) and isinstance(name, str):  # the stage it creates
                found.append((api, name, str(logical_id)))
        elif kind == "AWS::Serverless::Api":
            name = props.get("StageName")
            if isinstance(name, str):
                found.append((str(logical_id), name, f"{logical_id}{name}Stage"))
            elif isinstance(name, dict) and isinstance(name.get("Ref"), str):
                found.append((str(logical_id), "${" + name["Ref"] + "}", f"{logical_id}Stage"))
    if "Api" in _implicit_apis(doc):
        found.append(("ServerlessRestApi", "Prod", "ServerlessRestApiProdStage"))
    return found


_API_ARN = "arn:${AWS::Partition}:apigateway:${AWS::Region}::"


def _waf_association(doc: Document, _callers: list[str], names: dict[str, str]) -> list[str]:
    """Associate the new web ACL with every REST API stage (HTTP APIs cannot take one)."""
    stages = _rest_stages(doc)
    if not stages:
        raise Unpatchable("no REST API stage in the template (WAF cannot sit on an HTTP API)")
    changed = []
    for api, stage, stage_id in stages:
        logical_id = doc.fresh_id(f"{api}WebAclAssociation")
        arn = _API_ARN + f"/restapis/${{{api}}}/stages/{stage}"
        association = CommentedMap() if not doc.is_json else {}
        association["Type"] = "AWS::WAFv2::WebACLAssociation"
        association["DependsOn"] = stage_id
        association["Properties"] = CommentedMap() if not doc.is_json else {}
        association["Properties"]["ResourceArn"] = _tagged(doc, "!Sub", arn)
        association["Properties"]["WebACLArn"] = _tagged(
            doc, "!GetAtt", f"{names['LensWebAcl']}.Arn"
        )
        doc.resources[logical_id] = association
        changed.append(logical_id)
    return changed


def _log_retention(doc: Document, _callers: list[str], names: dict[str, str]) -> list[str]:
    """Give log groups a retention and an encryption key; declare the functions' log groups.

    Lambda creates a function's log group on first use, kept forever; declaring it as
    ``/aws/lambda/<name>`` in the template lets the stack set both.
    """
    days, key = _tagged(doc, "!Ref", names["LogRetentionDays"]), names["LensLogKey"]
    changed = []
    named = json.dumps(_plain([r for r in doc.resources.values() if _is(r, _LOG_GROUP)]))
    for logical_id, resource in list(doc.resources.items()):
        if (
            _is(resource, _LOG_GROUP)
            and _props(doc, str(logical_id)).get("RetentionInDays") is None
        ):
            _props(doc, str(logical_id))["RetentionInDays"] = copy.deepcopy(days)
            _props(doc, str(logical_id)).setdefault(
                "KmsKeyId", _tagged(doc, "!GetAtt", f"{key}.Arn")
            )
            changed.append(str(logical_id))
        elif _is(resource, *_FUNCTIONS) and not (resource.get("Properties") or {}).get(
            "LoggingConfig"
        ):
            if re.search(rf"\b{logical_id}\b", named):
                continue
            group = CommentedMap() if not doc.is_json else {}
            group["LogGroupName"] = _tagged(doc, "!Sub", f"/aws/lambda/${{{logical_id}}}")
            group["RetentionInDays"] = copy.deepcopy(days)
            group["KmsKeyId"] = _tagged(doc, "!GetAtt", f"{key}.Arn")
            log_group = CommentedMap() if not doc.is_json else {}
            log_group["Type"], log_group["Properties"] = _LOG_GROUP, group
            new_id = doc.fresh_id(f"{logical_id}LogGroup")
            doc.resources[new_id] = log_group
            changed.append(new_id)
    return changed


_LOG_GROUP = "AWS::Logs::LogGroup"


def _data_expiry(doc: Document, _callers: list[str], names: dict[str, str]) -> list[str]:
    """Expire table items through a TTL attribute and bucket objects through a lifecycle rule."""
    changed = []
    for logical_id, resource in doc.resources.items():
        if _is(resource, "AWS::DynamoDB::Table"):
            props = _props(doc, str(logical_id))
            if not props.get("TimeToLiveSpecification"):
                ttl = CommentedMap() if not doc.is_json else {}
                ttl["AttributeName"] = _tagged(doc, "!Ref", names["ExpiryAttributeName"])
                ttl["Enabled"] = True
                props["TimeToLiveSpecification"] = ttl
                changed.append(str(logical_id))
        elif _is(resource, "AWS::S3::Bucket"):
            props = _props(doc, str(logical_id))
            if not props.get("LifecycleConfiguration"):
                rule = CommentedMap() if not doc.is_json else {}
                rule["Id"], rule["Status"] = "expire-objects", "Enabled"
                rule["ExpirationInDays"] = _tagged(doc, "!Ref", names["ObjectExpirationDays"])
                props["LifecycleConfiguration"] = {"Rules": [rule]}
                changed.append(str(logical_id))
    return changed


def _is(resource: Any, *kinds: str) -> bool:
    return isinstance(resource, dict) and resource.get("Type") in kinds


def _limits(doc: Document, names: dict[str, str], rate: str, burst: str) -> Any:
    limits = CommentedMap() if not doc.is_json else {}
    limits[burst] = _tagged(doc, "!Ref", names["ApiThrottlingBurstLimit"])
    limits[rate] = _tagged(doc, "!Ref", names["ApiThrottlingRateLimit"])
    return limits


def _stage_throttle(doc: Document, names: dict[str, str]) -> list:
    setting = CommentedMap() if not doc.is_json else {}
    setting["ResourcePath"] = "/*"
    setting["HttpMethod"] = "*"
    setting.update(_limits(doc, names, "ThrottlingRateLimit", "ThrottlingBurstLimit"))
    return [setting]


_DEPLOYMENT = "AWS::ApiGateway::Deployment"


def _map(doc: Document) -> dict:
    return CommentedMap() if not doc.is_json else {}


_THROTTLE_KEYS = {
    "AWS::Serverless::Api": "MethodSettings",
    "AWS::ApiGateway::Stage": "MethodSettings",
    "AWS::Serverless::HttpApi": "DefaultRouteSettings",
    "AWS::ApiGatewayV2::Stage": "DefaultRouteSettings",
}
"""Where each API stage type takes its default throttling."""
_IMPLICIT = {"Api": "RestApiId", "HttpApi": "ApiId"}
"""SAM event types that create an implicit API unless they name one (with this key)."""


def _implicit_apis(doc: Document) -> list[str]:
    """Return the SAM event types ("Api", "HttpApi") that use an implicit API."""
    kinds = []
    for resource in doc.resources.values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = (resource.get("Properties") or {}).get("Events")
        for event in events.values() if isinstance(events, dict) else []:
            kind = event.get("Type") if isinstance(event, dict) else None
            props = event.get("Properties") if isinstance(event, dict) else None
            if kind in _IMPLICIT and isinstance(props, dict) and not props.get(_IMPLICIT[kind]):
                kinds.append(kind)
    return list(dict.fromkeys(kinds))


def _throttle(doc: Document, names: dict[str, str], key: str) -> Any:
    if key == "MethodSettings":
        return _stage_throttle(doc, names)
    return _limits(doc, names, "ThrottlingRateLimit", "ThrottlingBurstLimit")


def _api_throttling(doc: Document, _callers: list[str], names: dict[str, str]) -> list[str]:
    """Give every API stage a default rate and burst limit (SAM Globals for implicit APIs)."""
    changed = []
    for logical_id, resource in doc.resources.items():
        key = _THROTTLE_KEYS.get(str(resource.get("Type"))) if isinstance(resource, dict) else None
        if key and not _props(doc, str(logical_id)).get(key):
            _props(doc, str(logical_id))[key] = _throttle(doc, names, key)
            changed.append(str(logical_id))
    for api, _stage, logical_id in _rest_stages(doc):
        if _is(doc.resources.get(logical_id), _DEPLOYMENT):
            stage = _props(doc, logical_id).setdefault("StageDescription", _map(doc))
            if not stage.get("MethodSettings") and not stage.get("ThrottlingRateLimit"):
                stage["MethodSettings"] = _stage_throttle(doc, names)
                changed.append(logical_id)
    for kind in _implicit_apis(doc):
        key = _THROTTLE_KEYS[f"AWS::Serverless::{kind}"]
        globals_ = doc.data.setdefault("Globals", CommentedMap() if not doc.is_json else {})
        api = globals_.setdefault(kind, CommentedMap() if not doc.is_json else {})
        if not api.get(key):
            api[key] = _throttle(doc, names, key)
            changed.append(f"Globals.{kind}")
    if not changed:
        raise Unpatchable("no API stage in the template to set throttling on")
    return changed


def _workflow_timeout(doc: Document, _callers: list[str], _names: dict[str, str]) -> list[str]:
    """Bound each state machine run with TimeoutSeconds at the top of its definition.

    A definition kept in another file (DefinitionS3Location, DefinitionUri) is left alone:
    the template cannot show it, so the fix stays in words there.
    """
    seconds = int(remedies()["WorkflowTimeoutSeconds"])
    changed = []
    for logical_id, resource in doc.resources.items():
        props = _props(doc, str(logical_id)) if _is(resource, *_MACHINES) else {}
        definition = props.get("Definition")
        if isinstance(definition, dict) and "TimeoutSeconds" not in definition:
            at = list(definition).index("StartAt") + 1 if "StartAt" in definition else 0
            items = list(definition.items())
            if isinstance(definition, CommentedMap):
                definition.insert(at, "TimeoutSeconds", seconds)
            else:
                props["Definition"] = dict([*items[:at], ("TimeoutSeconds", seconds), *items[at:]])
            changed.append(str(logical_id))
        elif "DefinitionString" in props and _timed_string(props, seconds):
            changed.append(str(logical_id))
    if not changed:
        raise Unpatchable("no state machine definition in the template lacks a timeout")
    return changed


def _timed_string(props: dict, seconds: int) -> bool:
    """Add TimeoutSeconds to a JSON DefinitionString (plain or ``!Sub``); False if it cannot."""
    value = props["DefinitionString"]
    holder: Any = value.get("Fn::Sub") if isinstance(value, dict) else None
    text = value.value if isinstance(value, TaggedScalar) else holder if holder else value
    if not isinstance(text, str) or "TimeoutSeconds" in text:
        return False
    field = f'"TimeoutSeconds": {seconds},'
    timed, count = re.subn(r"\{(\s*)", lambda m: f"{{{m[1]}{field}{m[1] or ' '}", text, count=1)
    if not count:
        return False
    if isinstance(value, TaggedScalar):
        value.value = timed
    elif isinstance(value, str):
        props["DefinitionString"] = type(value)(timed)
    else:
        value["Fn::Sub"] = timed
    return True


_AOSS_PUBLIC = re.compile(r'("AllowFromPublic"\s*:\s*)true')


def _aoss_private(doc: Document, _callers: list[str], _names: dict[str, str]) -> list[str]:
    """Close public OpenSearch Serverless collections and narrow ``aoss:*`` data permissions.

    A public network policy admits Bedrock instead (SourceServices), which is how a knowledge
    base reaches a private collection; each rule of a data access policy with every
    permission gets the data-plane permissions of its resource type (AossPermissions).
    """
    changed = []
    for logical_id, resource in doc.resources.items():
        props = (
            _props(doc, str(logical_id))
            if _is(resource, "AWS::OpenSearchServerless::SecurityPolicy")
            or _is(resource, "AWS::OpenSearchServerless::AccessPolicy")
            else {}
        )
        policy = props.get("Policy")
        text = policy.value if isinstance(policy, TaggedScalar) else policy
        if not isinstance(text, str):
            continue
        edited = _private_network(text) if props.get("Type") == "network" else text
        edited = _aoss_rules(edited) if props.get("Type") == "data" else edited
        if edited == text:
            continue
        if isinstance(policy, TaggedScalar):
            policy.value = edited
        elif isinstance(policy, str):
            props["Policy"] = type(policy)(edited)
        changed.append(str(logical_id))
    if not changed:
        raise Unpatchable("no public network policy or `aoss:*` data policy in the template")
    return changed


def _private_network(text: str) -> str:
    space = " " if '": ' in text else ""
    sources = f'"SourceServices":{space}["bedrock.amazonaws.com"]'
    return _AOSS_PUBLIC.sub(lambda m: f"{m[1]}false,{space}{sources}", text)


def _aoss_rules(text: str) -> str:
    """Return the data access policy ``text`` with `aoss:*` replaced in every rule."""
    try:
        policies = json.loads(text)
    except json.JSONDecodeError:
        return text
    wanted = remedies()["AossPermissions"]
    broad = ("aoss:*", "*")
    for rule in (r for p in _dicts(policies) for r in _dicts(p.get("Rules"))):
        kind = str(rule.get("ResourceType", "")).lower()
        permissions = rule.get("Permission")
        permissions = permissions if isinstance(permissions, list) else [permissions]
        if kind in wanted and any(a in broad for a in permissions):
            rule["Permission"] = list(wanted[kind])
    edited = json.dumps(policies, separators=(", ", ": ") if '": ' in text else (",", ":"))
    return text if json.loads(edited) == json.loads(text) else edited


def _dicts(value: Any) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, dict)]


WIRES = {
    "workflow_timeout": _workflow_timeout,
    "aoss_private": _aoss_private,
    "api_throttling": _api_throttling,
    "vpc_callers": _vpc_callers,
    "guardrail_env": _guardrail_env,
    "encrypt_env": _encrypt_env,
    "guardrail_agent": _guardrail_agent,
    "tracing": _tracing,
    "narrow_bedrock": _narrow_bedrock,
    "api_auth": _api_auth,
    "waf_association": _waf_association,
    "log_retention": _log_retention,
    "data_expiry": _data_expiry,
}
