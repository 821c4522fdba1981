"""The Word layer: Word templates built from `Form` objects, filled, measured and checked.

Below the stages that write documents (generating, issuing); it knows forms (pipeline.definitions)
and nothing of programs' kinds. May import `pipeline.common` and `pipeline.definitions`.
"""

from pathlib import Path

#: The folder of the committed Word templates (forms' and the house documents').
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
