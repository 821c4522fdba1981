"""The public verify page (`/verify`): a certificate number and its check code → what the certificate says.

Anyone may open it, signed in or not, on the staff page or alone (`manyi serve DIR --verify-only`). It
shows the holder, title, category, year, term and status of the certificate whose number and code
match, and nothing else; a wrong number and a wrong code get the same answer ("no such certificate"),
so the page tells nobody which numbers exist. Each address may ask VERIFY_PER_HOUR times an hour.
`/verify/register` lists the titles the association publishes (holder, title, year, status; no numbers).
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request

from pipeline.issuing import register
from pipeline.web.security import RateLimit

#: Look-ups per client address per hour: enough for a buyer checking a tender file, far too few to guess codes.
VERIFY_PER_HOUR = 60
#: Longest number or code read from the query (anything longer is no certificate).
MAX_INPUT = 64

blueprint = Blueprint("verify", __name__)


@blueprint.route("/verify")
def page():
    """The form, and the answer when a number and a code were given (GET, so a QR code's link opens it)."""
    number = (request.args.get("n") or "").strip()[:MAX_INPUT]
    code = (request.args.get("c") or "").strip()[:MAX_INPUT]
    if not (number or code):
        return render_template("verify.html", number="", code="", asked=False)
    if not current_app.extensions["manyi_verify_rate"].allow(request.remote_addr or ""):
        return render_template("verify.html", number=number, code=code, asked=True, too_many=True), 429
    site = current_app.extensions["manyi"]
    with register.connect(site.ws.reader, write=False) as conn:
        found = register.check(conn, number, code) if number and code else None
    lines = register.public_lines(found) if found else None
    return render_template("verify.html", number=number, code=code, asked=True, lines=lines,
                           current=bool(found and found.current))


@blueprint.route("/verify/register")
def published():
    """The register of titles the association publishes (`register.public_register`): public, no numbers."""
    if not current_app.extensions["manyi_verify_rate"].allow(request.remote_addr or ""):
        return render_template("verify_register.html", rows=[], header=register.PUBLIC_HEADER, too_many=True), 429
    site = current_app.extensions["manyi"]
    with register.connect(site.ws.reader, write=False) as conn:
        rows = register.public_register(conn)
    return render_template("verify_register.html", rows=rows, header=register.PUBLIC_HEADER, too_many=False)


def register_page(app: Flask) -> None:
    """Given the application, serve /verify to everyone (public, rate-limited per address)."""
    app.register_blueprint(blueprint)
    app.config["PERMISSIONS"]["verify.page"] = "public"
    app.config["PERMISSIONS"]["verify.published"] = "public"
    app.extensions["manyi_verify_rate"] = RateLimit(VERIFY_PER_HOUR)
