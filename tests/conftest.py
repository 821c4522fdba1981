"""Session fixtures: the fixture corpus built once per test run, one parse of it, a packet typed in LibreOffice.

Under pytest-xdist every worker is its own session, so the corpus is built in the run's shared
base folder under a file lock: the first worker builds it (one LibreOffice batch), the others
wait and reuse it. The parse of the whole inbox is shared the same way.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the seed's campaign: 黑龙江 2017

# `make mutants` runs the targeted tests once per mutant, from its copy of the repository in mutants/:
# fewer, fixed examples there.
settings.register_profile("mutants", max_examples=30, derandomize=True, deadline=None, database=None)
if Path(__file__).resolve().parents[1].name == "mutants" or os.environ.get("MUTANT_UNDER_TEST"):
    settings.load_profile("mutants")


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory, monkeypatch):
    """Every test its own manyi data folder (the registers' index), never the user's."""
    monkeypatch.setenv("MANYI_DATA_DIR", str(tmp_path_factory.mktemp("manyi-data")))


@contextmanager
def _locked(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _shared_root(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp is <run>/popen-gwN: share the run's folder.
    return base.parent if base.name.startswith("popen-gw") else base


def _once(tmp_path_factory, name: str, make):
    """Given a name and a function of a folder returning picklable data, run it once per test run."""
    root = _shared_root(tmp_path_factory) / f"shared-{name}"
    root.mkdir(exist_ok=True)
    done = root / "result.pickle"
    with _locked(root / ".lock"):
        if not done.exists():
            done.write_bytes(pickle.dumps(make(root)))
    return root, pickle.loads(done.read_bytes())


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The fixture corpus: (inbox folder, entry name → expected facts)."""
    from corpus import build_corpus

    root, facts = _once(tmp_path_factory, "corpus", build_corpus)
    return root / "inbox", facts


@pytest.fixture(scope="session")
def parsed_corpus(tmp_path_factory, corpus):
    """The corpus inbox parsed once with jobs=2: (out folder, records by source, facts)."""
    from pipeline.parse import parse_inbox

    inbox, facts = corpus

    def run(root: Path):
        return parse_inbox([inbox], root / "out", HLJ, jobs=2).records

    root, records = _once(tmp_path_factory, "parsed", run)
    return root / "out", {r["source"]: r for r in records}, facts


#: The office client (tests/office_client.py) runs under the system Python, which has Debian's python3-uno.
OFFICE_CLIENT = Path(__file__).with_name("office_client.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def run_client(job: dict, folder: Path) -> list[dict]:
    """Given a job and its folder, run office_client.py once with the system Python; return each task's result."""
    path = folder / "job.json"
    path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([SYSTEM_PYTHON, str(OFFICE_CLIENT), str(path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(path.with_suffix(".result.json").read_text(encoding="utf-8"))["tasks"]


@pytest.fixture(scope="session")
def office_written(tmp_path_factory):
    """The packet typed plainly and under Track Changes, as .docx, .doc, .odt and .pdf, and a packet with a register
    over several pages typed into, as .docx, .doc and .pdf: (paths by name, client results)."""

    def make(root: Path):
        from corpus import packet_values, respondents, template_packet
        from pipeline.common import office
        from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
        from pipeline.generating.packet import render_packet
        from test_office_written import EDITS, REGISTER, REGISTER_EDITS  # what is typed, beside what must read back

        render_packet("construction", {}, root / "blank.docx", load_campaign(DEFAULT_CAMPAIGN).context())
        template_packet(root / "filled.docx", "product", packet_values("product", respondents=respondents(REGISTER)))
        tasks = [{"open": "blank.docx", "track_changes": tracked, "edits": EDITS,
                  "save": [f"{name}.{ext}" for ext in ("docx", "doc", "odt", "pdf")]}
                 for name, tracked in (("plain", False), ("tracked", True))]
        tasks.append({"open": "filled.docx", "edits": REGISTER_EDITS,
                      "save": ["register.docx", "register.doc", "register.pdf"]})
        results = run_client({"tasks": tasks}, root)
        docs = {f"{name}.{ext}": root / f"{name}.{ext}" for name in ("plain", "tracked", "register")
                for ext in ("docx", "doc")}
        docs.update({f"{name}.{ext}": root / f"{name}.{ext}" for name in ("plain", "tracked") for ext in ("odt", "pdf")})
        docs["register.pdf"] = root / "register.pdf"
        # .doc and .odt are read as parsing reads them: converted to .docx in one LibreOffice batch
        back = office.convert([p for n, p in docs.items() if n.endswith((".doc", ".odt"))], "docx", root / "from-doc")
        paths = {n: str(back[p] if n.endswith((".doc", ".odt")) else p) for n, p in docs.items()}
        return paths, results

    return _once(tmp_path_factory, "office-written", make)[1]
