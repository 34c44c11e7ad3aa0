"""Architecture diagrams and IaC: parse them into a graph and review the graph against the lens."""

from agent.diagrams.model import Architecture, Component, Edge, Group
from agent.diagrams.parse import parse_bytes, parse_file

__all__ = [
    "Architecture",
    "Component",
    "Edge",
    "Group",
    "parse_bytes",
    "parse_file",
]
