"""``motobox action``: run a composite GitHub Action locally, the way the GitHub runner does.

``expressions`` evaluates ``${{ }}``, ``commands`` reads workflow commands and masks what is
printed, ``runner`` runs the steps and gathers the answer (``ActionResult``).
"""

from motobox.action.runner import ActionResult, StepResult, run_action

__all__ = ["ActionResult", "StepResult", "run_action"]
