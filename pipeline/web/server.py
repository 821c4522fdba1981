"""`manyi serve`: the page served by waitress (pure Python, the same on Windows and Linux)."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

from pipeline.common.errors import UserError, os_reason
from pipeline.web.security import is_loopback

#: Threads answering requests; long work runs in the workspace's job worker, not in these.
THREADS = 8


def page_url(host: str, port: int) -> str:
    """Given the --host and --port, return the address to open in a browser."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"


def startup_lines(root: Path, host: str, port: int, self_check: bool, verify_only: bool = False,
                  sign_in: bool = False, workers: int = 1) -> list[str]:
    """Given how the page is served, return the Chinese lines printed when it starts."""
    if verify_only:
        return [f"工作区 {root} 的证书查验页已启动：{page_url(host, port)}verify（只提供查验页，不提供其他页面）",
                "按 Ctrl+C 停止。"]
    lines = [f"工作区 {root} 的页面已启动：请在浏览器打开 {page_url(host, port)}"]
    if is_loopback(host) and sign_in:
        lines.append("只有本机可以访问（127.0.0.1），须用账号登录（--sign-in）。")
    elif is_loopback(host):
        lines.append("只有本机可以访问（127.0.0.1），无需登录。")
    else:
        lines.append("其他电脑也可以访问：需要账号登录（manyi user add 名字 --role staff 添加账号）。")
    if self_check:
        lines.append(f"申报自检已开启：申报单位可打开 {page_url(host, port)}selfcheck 自行检查材料。")
    if not workers:
        lines.append("本页面不处理任务（--workers 0）：收件等任务由 manyi worker 进程处理。")
    lines.append("按 Ctrl+C 停止。")
    return lines


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          self_check: bool = False, echo=print, behind_proxy: str | None = None, verify_only: bool = False,
          portal_only: bool = False, workers: int = 1, sign_in: bool = False) -> None:
    """Given a workspace and where to listen, serve the page (or only the verify page, or only the applicants'
    pages) until interrupted; `workers` job threads run in this process (0: `manyi worker` processes run the jobs)."""
    import waitress

    from pipeline.web.app import create_app, site_of

    app = create_app(root, host=host, self_check=self_check, behind_proxy=behind_proxy, verify_only=verify_only,
                     portal_only=portal_only, workers=0, sign_in=sign_in)
    site = site_of(app)
    if portal_only:
        server = listen(app, host, port)  # the port first, as below
        echo(f"工作区 {root} 的申报单位页面已启动：{page_url(host, port)}apply/…（只提供申报单位的专属链接页面，"
             f"不提供工作人员页面）")
        echo("按 Ctrl+C 停止。")
        try:
            server.run()
        finally:
            server.close()
        return
    if not verify_only and not site.local and not site.store.users():
        raise UserError("在 127.0.0.1 以外的地址提供页面（或用 --sign-in）需要账号：请先运行 manyi user add 名字 --role admin")
    server = listen(app, host, port)  # the port first: a busy one is said before anything claims to have started
    if workers and site.runner is not None:
        site.runner.start_worker(threads=workers)  # one command on one computer: the page runs its own jobs
    for line in startup_lines(Path(root), host, port, self_check, verify_only, sign_in, workers):
        echo(line)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(page_url(host, port),)).start()
    try:
        server.run()
    finally:
        server.close()
        if site.runner is not None:
            site.runner.stop()


def work(root: Path, threads: int = 1, echo=print) -> None:
    """Given a workspace, run its jobs in this process until interrupted (`manyi worker`: several may run, on
    computers that share the workspace folder and its PostgreSQL database); a job another worker left
    interrupted is resumed once."""
    from pipeline.web import app  # noqa: F401  (every job kind: tasks.py and any page module's own @task)
    from pipeline.web.jobs import Jobs
    from pipeline.workspace import Workspace

    from pipeline.workspace.receive import settle_left_over

    ws = Workspace.open(root)
    settle_left_over(ws)  # what a killed receive stored but never checked
    jobs = Jobs(ws)
    echo(f"工作区 {root} 的任务进程已启动（{threads} 个线程，进程 {jobs.worker_id}）。按 Ctrl+C 停止。")
    try:
        jobs.start_worker(threads=threads, resume=True, foreground=True)
    finally:
        jobs.stop()
        ws.close()


def listen(app, host: str, port: int):
    """Given the application and where to listen, return waitress's server bound there (not yet serving);
    raise a Chinese UserError when the port is taken or the address cannot be used."""
    import errno

    import waitress.server

    try:
        return waitress.server.create_server(app, host=host, port=port, threads=THREADS, ident="manyi")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048:
            raise UserError(f"端口 {port} 已被占用（可能是另一个 manyi serve 或其他程序）：请先关闭它，"
                            f"或换一个端口，如 --port {port + 1 if port < 65535 else 8001}") from None
        raise UserError(f"无法在 {host}:{port} 上启动（{os_reason(exc)}）：请检查 --host 和 --port") from None
