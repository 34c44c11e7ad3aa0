"""CloudFormation/SAM and Terraform: resources, references, implicit services and control facts."""

from __future__ import annotations

import json

import pytest

from corpus.errors import InputError
from diagrams import parse_bytes

SAM = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Tracing: Active
Parameters:
  ModelId:
    Type: String
    Default: us.anthropic.claude-3-5-sonnet-20241022-v2:0
Resources:
  ChatApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
  ChatFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Environment:
        Variables:
          TABLE: !Ref History
          GUARDRAIL_ID: !GetAtt Guard.GuardrailId
          BUCKET_ARN: !Sub "arn:aws:s3:::${Docs}/*"
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref History
        - Statement:
            - Effect: Allow
              Action: bedrock:*
              Resource: '*'
      Events:
        Ask:
          Type: Api
          Properties:
            RestApiId: !Ref ChatApi
            Path: /ask
            Method: post
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
  History:
    Type: AWS::DynamoDB::Table
    Properties:
      SSESpecification: {SSEEnabled: true}
  Docs:
    Type: AWS::S3::Bucket
  Guard:
    Type: AWS::Bedrock::Guardrail
    Properties:
      ContentPolicyConfig:
        FiltersConfig:
          - {Type: PROMPT_ATTACK, InputStrength: HIGH, OutputStrength: NONE}
  Custom:
    Type: Custom::Thing
    Properties:
      ServiceToken: !GetAtt ChatFunction.Arn
"""


def _by_id(arch):
    return {c.id: c for c in arch.components}


def test_sam_yaml_resources_refs_events_and_facts():
    arch = parse_bytes(SAM.encode(), "template.yaml")
    comps = _by_id(arch)
    assert arch.format == "cloudformation"
    assert arch.services == [
        "api-gateway",
        "bedrock",
        "bedrock-guardrails",
        "dynamodb",
        "eventbridge",
        "lambda",
        "s3",
    ]
    edges = {(e.source, e.target) for e in arch.edges}
    assert {
        ("ChatFunction", "History"),
        ("ChatFunction", "Guard"),
        ("ChatFunction", "Docs"),
        ("ChatApi", "ChatFunction"),
        ("ChatFunctionNightly", "ChatFunction"),
        ("Custom", "ChatFunction"),
        ("ChatFunction", "bedrock-api"),
    } <= edges
    fn = comps["ChatFunction"].facts
    assert fn["tracing"] is True and fn["broad_bedrock"] is True and fn["bedrock_access"] is True
    assert "GUARDRAIL_ID" in fn["hints"]
    assert comps["ChatApi"].facts["authorizer"] is False
    assert comps["History"].facts["encryption"] is True
    assert comps["Docs"].facts["encryption"] is False
    assert comps["Guard"].facts["prompt_attack_filter"] is True
    assert comps["bedrock-api"].facts["cross_region_inference"] is True
    assert comps["Custom"].service is None


def test_sam_api_with_default_authorizer_and_an_open_route():
    template = {
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::Api",
                "Properties": {
                    "Auth": {"DefaultAuthorizer": "Cognito", "Authorizers": {"Cognito": {}}}
                },
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "Open": {
                            "Type": "Api",
                            "Properties": {
                                "RestApiId": {"Ref": "Api"},
                                "Path": "/health",
                                "Method": "get",
                                "Auth": {"Authorizer": "NONE"},
                            },
                        },
                    }
                },
            },
        }
    }
    comps = _by_id(parse_bytes(json.dumps(template).encode(), "stack.json"))
    assert comps["Api"].facts["authorizer"] is False
    assert comps["Api"].facts["open_routes"] == ["/health"]


def test_cloudformation_json_methods_endpoints_agents():
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Rest": {"Type": "AWS::ApiGateway::RestApi"},
            "Get": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Rest"},
                    "HttpMethod": "GET",
                    "AuthorizationType": "NONE",
                },
            },
            "Post": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Rest"},
                    "HttpMethod": "POST",
                    "AuthorizationType": "COGNITO_USER_POOLS",
                },
            },
            "Endpoint": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.bedrock-runtime"}
                },
            },
            "Agent": {"Type": "AWS::Bedrock::Agent", "Properties": {"FoundationModel": "x"}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyDocument": {
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": ["bedrock:InvokeModel"],
                                        "Resource": "arn:aws:bedrock:us-east-1::foundation-model/x",
                                    }
                                ]
                            }
                        }
                    ]
                },
            },
        },
    }
    arch = parse_bytes(json.dumps(template).encode(), "stack.template")
    comps = _by_id(arch)
    assert comps["Get"].facts["authorizer"] is False and comps["Post"].facts["authorizer"] is True
    assert comps["Endpoint"].service == "vpc-endpoint"
    assert comps["Endpoint"].facts["bedrock_endpoint"] is True
    assert comps["Agent"].facts["guardrail"] is False
    assert comps["Role"].facts["scoped_bedrock"] is True
    assert comps["Role"].facts["broad_permissions"] is False
    assert ("Get", "Rest") in {(e.source, e.target) for e in arch.edges}
    assert comps["bedrock-api"].service == "bedrock"  # the agent runs on a Bedrock model


TERRAFORM = """
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
  name   = "main"
}

data "aws_iam_policy_document" "agent" {
  statement {
    actions   = ["bedrock:InvokeModel"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "agent" {
  role   = "r"
  policy = data.aws_iam_policy_document.agent.json
}

resource "aws_bedrockagent_agent" "helper" {
  agent_name       = "helper"
  foundation_model = "eu.anthropic.claude-3-haiku-20240307-v1:0"
  guardrail_configuration {
    guardrail_identifier = aws_bedrock_guardrail.main.guardrail_id
    guardrail_version    = "1"
  }
}

resource "aws_bedrock_guardrail" "main" {
  name = "main"
}

resource "aws_s3_bucket" "docs" {
  bucket = "docs"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "docs" {
  bucket = aws_s3_bucket.docs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_vpc_endpoint" "bedrock" {
  vpc_id       = module.vpc.vpc_id
  service_name = "com.amazonaws.eu-west-1.bedrock-runtime"
}

resource "aws_lambda_function" "tool" {
  function_name = "tool"
  role          = "arn"
  timeout       = 30
  vpc_config {
    subnet_ids = module.vpc.private_subnets
  }
}
"""


def test_terraform_resources_modules_references_and_facts():
    arch = parse_bytes(TERRAFORM.encode(), "main.tf")
    comps = _by_id(arch)
    assert arch.format == "terraform"
    assert arch.services == [
        "bedrock",
        "bedrock-agents",
        "bedrock-guardrails",
        "iam",
        "lambda",
        "s3",
        "vpc",
        "vpc-endpoint",
    ]
    assert comps["module.vpc"].service == "vpc"
    assert comps["aws_bedrockagent_agent.helper"].facts["guardrail"] is True
    assert comps["aws_bedrockagent_agent.helper"].facts["cross_region_inference"] is True
    assert comps["aws_s3_bucket.docs"].facts["encryption"] is True
    assert comps["aws_s3_bucket.docs"].facts["kms_encryption"] is True
    assert comps["aws_vpc_endpoint.bedrock"].facts["bedrock_endpoint"] is True
    assert comps["aws_lambda_function.tool"].facts["in_vpc"] is True
    assert comps["aws_iam_role_policy.agent"].facts["broad_bedrock"] is True
    edges = {(e.source, e.target) for e in arch.edges}
    assert ("aws_bedrockagent_agent.helper", "aws_bedrock_guardrail.main") in edges
    assert ("aws_vpc_endpoint.bedrock", "module.vpc") in edges


def test_terraform_json_syntax():
    doc = {
        "resource": {
            "aws_sqs_queue": {"jobs": {"name": "jobs"}},
            "aws_lambda_function": {
                "worker": {"environment": {"variables": {"QUEUE": "${aws_sqs_queue.jobs.url}"}}}
            },
        }
    }
    arch = parse_bytes(json.dumps(doc).encode(), "main.tf.json")
    assert arch.format == "terraform" and arch.services == ["lambda", "sqs"]
    assert [(e.source, e.target) for e in arch.edges] == [
        ("aws_lambda_function.worker", "aws_sqs_queue.jobs")
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "t.yaml",
            "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    X: !Bogus y\n",
            "not valid YAML",
        ),
        ("t.yaml", "Resources: [1, 2\n", "not valid YAML"),
        ("t.yaml", "Parameters: {}\n", "no 'Resources'"),
        ("t.json", '{"Resources": {"A": {"Properties": {}}}}', "has no Type"),
        ("t.json", '{"Resources": ', "not valid JSON"),
        ("main.tf", 'resource "aws_s3_bucket" "x" {', "not valid HCL"),
        ("main.tf", 'variable "x" {}\n', "no resources or modules"),
    ],
)
def test_malformed_templates_are_one_line_input_errors(name, text, message):
    with pytest.raises(InputError, match=message) as info:
        parse_bytes(text.encode(), name)
    assert "\n" not in str(info.value)


def test_cdk_templates_use_construct_paths_as_labels():
    template = {
        "Resources": {
            "ChatFn1A2B3C": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {"aws:cdk:path": "ChatStack/ChatFn/Resource"},
            }
        }
    }
    comp = parse_bytes(json.dumps(template).encode(), "ChatStack.template.json").components[0]
    assert (comp.id, comp.label, comp.service) == ("ChatFn1A2B3C", "ChatFn", "lambda")
