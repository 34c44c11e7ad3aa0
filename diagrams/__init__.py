"""Architecture diagrams and IaC: parse them into a graph and review the graph against the lens."""

from diagrams.model import Annotation, Architecture, Component, Edge, Group
from diagrams.parse import parse_bytes, parse_file
from diagrams.report import render_markdown
from diagrams.review import DiagramReview, Finding, Review, review_architecture

__all__ = [
    "Annotation",
    "Architecture",
    "Component",
    "DiagramReview",
    "Edge",
    "Finding",
    "Group",
    "Review",
    "parse_bytes",
    "parse_file",
    "render_markdown",
    "review_architecture",
]
