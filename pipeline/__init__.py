"""manyi: user-satisfaction award programs from paper to certificate.

The package is laid out by the stages of a campaign, data flowing one way (see ARCHITECTURE.md):
`common` → `definitions` → `generating` → `receiving` → `reading` → `checking` → `issuing`, with the
batch (`parse`), the command line (`cli`) and the demo on top. A module imports only from its own
stage or a lower one; `tests/test_architecture.py` keeps it so.
"""

__version__ = "0.1.0"
