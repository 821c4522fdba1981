"""What forms, campaigns and programs are: `forms/*.yaml`, `forms/campaigns/`, `forms/programs/` loaded.

Every other stage asks these modules for a label, a rule's threshold or a program's titles instead of
writing its own. May import `pipeline.common` only.
"""
