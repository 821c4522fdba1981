"""收件记录 (blueprint `junk`): staff withdraw a received entry and take it back (each recorded); an administrator
purges the stored bytes of a file that is no submission's (a bomb, a huge upload), recorded in the audit log.
The rules are the library's (`pipeline.workspace.junk`)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from pipeline.web.context import route, user_name, ws
from pipeline.workspace import junk

bp = Blueprint("junk", __name__)


def entries():
    """The latest received entries (withdraw / restore), and for administrators the files that may be purged."""
    return render_template("entries.html", entries=junk.entries(ws()),
                           purgeable=junk.purgeable(ws()) if g.user.can("admin") else [])


def entry_withdraw(version_id: int):
    junk.withdraw(ws(), version_id, user_name(), request.form.get("note", ""))
    flash("已撤回这次收件（可以恢复）。")
    return redirect(url_for("junk.entries"))


def entry_restore(version_id: int):
    junk.restore(ws(), version_id, user_name())
    flash("已恢复这次收件。")
    return redirect(url_for("junk.entries"))


def file_purge(sha: str):
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        abort(404)
    done = junk.purge(ws(), sha, user_name(), request.form.get("reason", ""))
    flash(f"已清除文件 {'、'.join(done['names']) or sha[:12]}（{done['size']} 字节），已记入操作记录。")
    return redirect(url_for("junk.entries"))


route(bp, "/entries", "staff")(entries)
route(bp, "/entries/<int:version_id>/withdraw", "staff", ("POST",))(entry_withdraw)
route(bp, "/entries/<int:version_id>/restore", "staff", ("POST",))(entry_restore)
route(bp, "/store/<sha>/purge", "admin", ("POST",))(file_purge)
