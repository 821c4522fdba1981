"""The web page for association staff (`manyi serve`): Flask pages over the campaign workspace.

`create_app(workspace_dir, host=…)` returns the application; `server.serve` runs it with waitress.
"""
