"""Control facts read from CloudFormation/SAM resource properties, one small reader per type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diagrams import iac_facts

Facts = dict[str, Any]


def _get(props: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(props, dict):
            return None
        props = props.get(key)
    return props


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "active", "enabled")


def _env_hints(props: dict) -> list[str]:
    variables = _get(props, "Environment", "Variables")
    return sorted(str(k) for k in variables) if isinstance(variables, dict) else []


def _function(props: dict, globals_: dict) -> Facts:
    merged = {**globals_, **props}
    facts: Facts = {
        "in_vpc": bool(merged.get("VpcConfig")),
        "tracing": _truthy(merged.get("Tracing"))
        or _get(merged, "TracingConfig", "Mode") == "Active",
        "dlq": bool(
            merged.get("DeadLetterConfig")
            or merged.get("DeadLetterQueue")
            or _get(merged, "EventInvokeConfig", "DestinationConfig", "OnFailure")
        ),
        "reserved_concurrency": merged.get("ReservedConcurrentExecutions") is not None,
        "hints": _env_hints(props) + _env_hints(globals_),
        **iac_facts.names_model(_get(merged, "Environment", "Variables")),
    }
    if isinstance(merged.get("Timeout"), int | float):
        facts["timeout_seconds"] = merged["Timeout"]
    url = merged.get("FunctionUrlConfig")
    if isinstance(url, dict):
        facts["authorizer"] = url.get("AuthType") not in (None, "NONE")
    policies = props.get("Policies")
    statements, managed = [], []
    for item in policies if isinstance(policies, list) else [policies]:
        if isinstance(item, dict) and "Statement" in item:
            statements.extend(iac_facts._as_list(item["Statement"]))
        elif isinstance(item, str):
            managed.append(item)
    iac_facts.merge(facts, iac_facts.statement_facts(statements))
    iac_facts.merge(facts, iac_facts.managed_policy_facts(managed))
    return facts


def _role(props: dict, _globals: dict) -> Facts:
    facts: Facts = {}
    statements = []
    for policy in iac_facts._as_list(props.get("Policies")):
        statements.extend(iac_facts._as_list(_get(policy, "PolicyDocument", "Statement")))
    statements.extend(iac_facts._as_list(_get(props, "PolicyDocument", "Statement")))
    iac_facts.merge(facts, iac_facts.statement_facts(statements))
    iac_facts.merge(
        facts, iac_facts.managed_policy_facts(iac_facts._as_list(props.get("ManagedPolicyArns")))
    )
    return facts


def _bucket(props: dict, _globals: dict) -> Facts:
    rules = iac_facts._as_list(_get(props, "BucketEncryption", "ServerSideEncryptionConfiguration"))
    algorithms = {str(_get(r, "ServerSideEncryptionByDefault", "SSEAlgorithm")) for r in rules}
    block = props.get("PublicAccessBlockConfiguration") or {}
    return {
        "encryption": bool(rules),
        "kms_encryption": any("kms" in a for a in algorithms),
        "public_access_block": isinstance(block, dict)
        and len(block) >= 4
        and all(_truthy(v) for v in block.values()),
        "versioning": _get(props, "VersioningConfiguration", "Status") == "Enabled",
        "replication": bool(props.get("ReplicationConfiguration")),
        "lifecycle": bool(props.get("LifecycleConfiguration")),
    }


def _table(props: dict, _globals: dict) -> Facts:
    return {
        "encryption": _truthy(_get(props, "SSESpecification", "SSEEnabled")),
        "pitr": _truthy(
            _get(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")
        ),
        "global_table": len(iac_facts._as_list(props.get("Replicas"))) > 1,
        "retention": _truthy(_get(props, "TimeToLiveSpecification", "Enabled")),
    }


def _queue(props: dict, _globals: dict) -> Facts:
    return {
        "dlq": bool(props.get("RedrivePolicy")),
        "encryption": bool(
            props.get("KmsMasterKeyId") or _truthy(props.get("SqsManagedSseEnabled"))
        ),
    }


def _agent(props: dict, _globals: dict) -> Facts:
    return {
        "guardrail": bool(props.get("GuardrailConfiguration")),
        "session_timeout": props.get("IdleSessionTTLInSeconds") is not None,
        "hints": [str(props.get("FoundationModel", ""))[:80]],
    }


def _guardrail(props: dict, _globals: dict) -> Facts:
    filters = iac_facts._as_list(_get(props, "ContentPolicyConfig", "FiltersConfig"))
    return {
        "content_filters": bool(filters),
        "prompt_attack_filter": any(_get(f, "Type") == "PROMPT_ATTACK" for f in filters),
        "pii_filter": bool(props.get("SensitiveInformationPolicyConfig")),
        "grounding_check": bool(props.get("ContextualGroundingPolicyConfig")),
    }


def _api(props: dict, globals_: dict) -> Facts:
    props = {**globals_, **props}
    auth = props.get("Auth") or {}
    return {
        "authorizer": bool(
            isinstance(auth, dict)
            and (
                auth.get("DefaultAuthorizer")
                or _truthy(auth.get("ApiKeyRequired"))
                or auth.get("ResourcePolicy")
            )
        ),
        "tracing": _truthy(props.get("TracingEnabled")),
        "throttling": bool(_get(props, "MethodSettings") or props.get("DefaultRouteSettings")),
    }


def _method(props: dict, _globals: dict) -> Facts:
    if str(props.get("HttpMethod", "")).upper() == "OPTIONS":
        return {}
    kind = props.get("AuthorizationType")
    return {"authorizer": kind not in (None, "NONE") or _truthy(props.get("ApiKeyRequired"))}


def _route(props: dict, _globals: dict) -> Facts:
    return {"authorizer": props.get("AuthorizationType") not in (None, "NONE")}


def _stage(props: dict, _globals: dict) -> Facts:
    return {
        "tracing": _truthy(props.get("TracingEnabled")),
        "logging": bool(props.get("AccessLogSetting") or props.get("AccessLogSettings")),
        "throttling": bool(props.get("MethodSettings") or props.get("DefaultRouteSettings")),
    }


def _deployment(props: dict, _globals: dict) -> Facts:
    """A REST deployment with a StageName creates that stage, set up by StageDescription."""
    stage = props.get("StageDescription")
    if not props.get("StageName") or not isinstance(stage, dict):
        return {}
    return {
        "tracing": _truthy(stage.get("TracingEnabled")),
        "logging": bool(stage.get("AccessLogSetting")),
        "throttling": bool(stage.get("MethodSettings") or stage.get("ThrottlingRateLimit")),
    }


def _graphql(props: dict, _globals: dict) -> Facts:
    return {
        "authorizer": props.get("AuthenticationType") not in (None, "API_KEY"),
        "tracing": _truthy(props.get("XrayEnabled")),
    }


def _endpoint(props: dict, _globals: dict) -> Facts:
    name = " ".join(iac_facts.strings(props.get("ServiceName")))
    return {"bedrock_endpoint": iac_facts.is_bedrock_endpoint(name), "endpoint_service": name[-60:]}


def _state_machine(props: dict, _globals: dict) -> Facts:
    definition = " ".join(
        iac_facts.strings([props.get("Definition"), props.get("DefinitionString")])
    )
    keys = [
        str(key)
        for node in iac_facts.walk(props.get("Definition"))
        if isinstance(node, dict)
        for key in node
    ]
    definition += " " + " ".join(keys)
    facts: Facts = {
        "tracing": _truthy(_get(props, "TracingConfiguration", "Enabled"))
        or _truthy(_get(props, "Tracing", "Enabled")),
        "logging": bool(props.get("LoggingConfiguration") or props.get("Logging")),
    }
    if not definition.strip():  # DefinitionS3Location / DefinitionUri: the states live elsewhere
        return facts
    return {**facts, "timeout": "TimeoutSeconds" in definition, "retries": "Retry" in definition}


def _sagemaker_endpoint_config(props: dict, _globals: dict) -> Facts:
    variants = iac_facts._as_list(props.get("ProductionVariants"))
    return {
        "serverless": any(_get(v, "ServerlessConfig") for v in variants),
        "async_inference": bool(props.get("AsyncInferenceConfig")),
    }


def _log_group(props: dict, _globals: dict) -> Facts:
    return {
        "retention": props.get("RetentionInDays") is not None,
        "encryption": bool(props.get("KmsKeyId")),
    }


READERS: dict[str, Callable[[dict, dict], Facts]] = {
    "AWS::Lambda::Function": _function,
    "AWS::Serverless::Function": _function,
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _role,
    "AWS::IAM::ManagedPolicy": _role,
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::DynamoDB::GlobalTable": lambda p, g: {**_table(p, g), "global_table": True},
    "AWS::Serverless::SimpleTable": lambda p, g: {"encryption": bool(p.get("SSESpecification"))},
    "AWS::SQS::Queue": _queue,
    "AWS::Bedrock::Agent": _agent,
    "AWS::Bedrock::Guardrail": _guardrail,
    "AWS::Serverless::Api": _api,
    "AWS::Serverless::HttpApi": lambda p, g: {
        **_api(p, g),
        "authorizer": bool(_get(p, "Auth", "DefaultAuthorizer")),
    },
    "AWS::ApiGateway::Method": _method,
    "AWS::ApiGatewayV2::Route": _route,
    "AWS::ApiGateway::Stage": _stage,
    "AWS::ApiGateway::Deployment": _deployment,
    "AWS::ApiGatewayV2::Stage": _stage,
    "AWS::AppSync::GraphQLApi": _graphql,
    "AWS::Lambda::Url": lambda p, g: {"authorizer": p.get("AuthType") not in (None, "NONE")},
    "AWS::EC2::VPCEndpoint": _endpoint,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Serverless::StateMachine": _state_machine,
    "AWS::SageMaker::EndpointConfig": _sagemaker_endpoint_config,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::CloudWatch::Alarm": lambda p, g: iac_facts.watches_model(p.get("Namespace")),
    "AWS::OpenSearchServerless::SecurityPolicy": lambda p, g: iac_facts.aoss_policy_facts(
        " ".join(iac_facts.strings(p.get("Policy")))
    ),
    "AWS::OpenSearchServerless::AccessPolicy": lambda p, g: iac_facts.aoss_policy_facts(
        " ".join(iac_facts.strings(p.get("Policy")))
    ),
}


def read_facts(resource_type: str, props: Any, globals_: dict) -> Facts:
    """Return the review facts of one resource (empty when the type has no reader)."""
    reader = READERS.get(resource_type)
    props = {} if props is None else props
    if reader is None or not isinstance(props, dict):
        return {}
    facts = reader(props, globals_ if isinstance(globals_, dict) else {})
    if "hints" in facts:
        facts["hints"] = [h for h in facts["hints"] if h]
    return facts
