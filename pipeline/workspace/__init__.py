"""The campaign workspace: every submission, version and decision of a campaign kept in one place.

The library the CLI and the web page stand on:

- `Workspace.init(dir, campaign, db_url=)` / `Workspace.open(dir)` (core)
- `receive(ws, paths, received=, jobs=, progress=)` (receive): inbox entries become versions
- listing, detail and staff actions are methods of Workspace: `applicants`, `applicant`, `find`,
  `stage_counts`, `waiting`, `winners`, `latest_records`, `audit_log`, `move`, `decide`, `opinion`
- outputs (outputs): `workspace_notices`, `workspace_summary`, `workspace_certificates`, `status_lines`
- `export(ws, zip)` / `import_(zip, dir, db_url=)` (transfer)
"""

from pipeline.workspace.core import ApplicantDetail, ApplicantRow, Page, VersionInfo, Workspace  # noqa: F401
