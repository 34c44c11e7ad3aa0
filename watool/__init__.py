"""Export a lens review to the AWS Well-Architected Tool: plan, match choices, write answers.

from watool import plan_export, export_review
plan = plan_export(review, lens.catalog().best_practices(), workload="checkout")
print(plan.render())                        # the dry run: nothing sent to AWS
result = export_review(plan, lens.settings)  # ExportResult: what was written
"""

from watool.client import WaTool, WaToolError
from watool.export import ExportResult, WaExportError, export_review
from watool.plan import FRAMEWORK_LENS, GENAI_LENS, ExportPlan, plan_export

__all__ = [
    "FRAMEWORK_LENS",
    "GENAI_LENS",
    "ExportPlan",
    "ExportResult",
    "WaExportError",
    "WaTool",
    "WaToolError",
    "export_review",
    "plan_export",
]
