"""Stage 1, generating: the Word packets, blank or pre-filled from a roster, and their PDFs.

`layout` builds each form's template from its description, `render` fills templates, `packet` writes
the packets, the 推荐汇总表 (`summary_table`) and the contract, `program_forms` the sister programs'
forms, `house_templates` the association's own documents, `templates_check` checks a template staff
edited in Word. May import `pipeline.common` and `pipeline.definitions`.
"""
