"""Shared at the bottom: what every stage uses and nothing campaign-specific.

Errors staff read (`errors`), text normalising (`text`), safe output files (`files`), limits for untrusted
files (`safety`), telling a file's kind by its bytes (`sniff`), LibreOffice headless (`office`), the xlsx
writer and reader (`xlsx`) and folders of JSON records (`records`). Imports nothing else from `pipeline`.
"""
