"""Accounts on the page (blueprint `account`): an administrator's controls for each account (disable, enable,
delete, change the role, reset the password or the second factor), each its own recorded action, and the
enrolment of an administrator's second factor (TOTP).

The rules (the last administrator stays, reserved names, sessions ended by each change) are the library's
(`pipeline.workspace.accounts`); this module reads the form and calls it.
"""

from __future__ import annotations

import segno
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from pipeline.common.errors import UserError
from pipeline.web import auth
from pipeline.web.context import route, site, user_name

bp = Blueprint("account", __name__)

#: What each control does, in the words of the flash message.
DONE = {"disable": "已停用", "enable": "已启用", "delete": "已删除", "role": "已修改角色：", "password": "已重置密码：",
        "totp-reset": "已取消二次验证："}


def user_action(name: str, action: str):
    """One control of one account (POST from the accounts page); each is recorded by the library."""
    store = site().store
    if store.user(name) is None:
        abort(404)
    if action == "disable":
        store.set_disabled(name, True, by=user_name())
    elif action == "enable":
        store.set_disabled(name, False, by=user_name())
    elif action == "delete":
        if request.form.get("confirm") != name:
            raise UserError(f"删除账号前请在确认框中输入用户名“{name}”")
        store.delete_user(name, by=user_name())
    elif action == "role":
        role = request.form.get("role", "")
        if role not in auth.ROLES:
            raise UserError("请选择角色")
        store.set_role(name, role, by=user_name())
    elif action == "password":
        password = request.form.get("password", "")
        auth.check_new_user(name, store.user(name)["role"], password)
        store.set_password(name, auth.hash_password(password), by=user_name())
    elif action == "totp-reset":
        store.set_totp(name, None, by=user_name())
    else:
        abort(404)
    flash(f"{DONE[action]}账号 {name}")
    return redirect(url_for("pages.users"))


def totp():
    """An administrator turns on the second factor: a new secret shown as text and QR code, confirmed by a code."""
    if g.user.local:
        raise UserError("本机使用（127.0.0.1，无需登录）时没有账号可设置二次验证；请用 --sign-in 或在局域网上提供页面")
    if request.method == "POST":
        secret = session.get("totp_pending")
        step = auth.totp_step(secret, request.form.get("code", "")) if secret else None
        if step is None:
            flash("验证码不对：请用手机验证器中当前显示的 6 位数字再试一次")
            return redirect(url_for("account.totp"))
        store = site().store
        store.set_totp(user_name(), secret, by=user_name())  # every session of the account ends: sign in again
        store.use_totp_step(user_name(), step)
        session.pop("totp_pending", None)
        flash("已启用二次验证：以后登录时除密码外还要输入验证器中的 6 位数字。请重新登录。")
        return redirect(url_for("pages.login"))
    secret = session.setdefault("totp_pending", auth.new_totp_secret())
    uri = auth.totp_uri(secret, user_name(), issuer="manyi")
    return render_template("account_totp.html", secret=secret, qr=segno.make(uri, error="m").svg_data_uri(scale=5),
                           enabled=bool((site().store.user(user_name()) or {}).get("totp_secret")))


route(bp, "/users/<name>/<action>", "admin", ("POST",))(user_action)
route(bp, "/account/totp", "admin", ("GET", "POST"))(totp)
