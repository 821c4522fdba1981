"""The Word layer: Word templates built from `Form` objects, filled, measured and checked.

Below the stages that write documents (generating, issuing); it knows forms (pipeline.definitions)
and nothing of programs' kinds. May import `pipeline.common` and `pipeline.definitions`.
"""

from pipeline.common.resources import TEMPLATES as TEMPLATES_DIR  # noqa: F401  (the packaged Word templates)
