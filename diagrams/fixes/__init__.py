"""Fixes for review gaps: remediation templates applied to the user's file, then verified."""

from diagrams.fixes.engine import Fix, FixPlan, plan_fixes, unified_diff

__all__ = ["Fix", "FixPlan", "plan_fixes", "unified_diff"]
