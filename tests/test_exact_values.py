"""Every value comes back exactly as typed, even when it mentions what the form prints.

For every printed text of every form (labels, side labels, hints, footers, notes) a typed value
holds it in the middle of a sentence; the value must come back unchanged from the .docx, and
from the .doc and the PDF LibreOffice makes of it (one conversion batch per run). A few
documents cover every printed text: each text field holds several printed texts at once.
"""

from __future__ import annotations

import math
import re

import pytest
from conftest import _once
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.common import office
from pipeline.common.text import fold
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.forms import Form, load_forms, packet_forms
from pipeline.reading.extract import extract_document, printed_texts
from pipeline.reading.grid import Document
from pipeline.reading.readers.docx import read_docx
from pipeline.reading.readers.pdf import read_pdf

CATEGORIES = ("enterprise", "product", "construction", "service")
#: The standalone forms with text fields, each rendered on its own.
STANDALONE = ("summary_table", "contract")
_PLACEHOLDER = re.compile(r"\{\{\s*c\.(\w+)\s*\}\}")


def as_printed(form: Form, ctx: dict) -> list[str]:
    """Given a form and the campaign context, return its printed texts (and label aliases) as printed, spaces dropped."""
    out: list[str] = []

    def add(text) -> None:
        text = _PLACEHOLDER.sub(lambda m: str(ctx.get(m[1], "")), str(text))
        for line in text.split("\n"):
            plain = "".join(line.split())
            if "{{" not in plain and len(fold(plain)) >= 2 and plain not in out:
                out.append(plain)

    lines = {item["line"] for item in form.layout if isinstance(item, dict) and item.get("line")}
    for f in form.fields.values():
        if not f.slot or f.id in lines:  # a slot date has no printed label
            for label in (f.label, *f.aliases):  # other spellings of a label count as printed too
                add(label)
        if f.group:
            add(f.group)
    for item in form.layout:
        for row in (item.get("table") or {}).get("rows", []) if isinstance(item, dict) else []:
            for cell in row:
                if isinstance(cell, str) and not cell.startswith("="):
                    add(cell)
                elif isinstance(cell, dict):
                    for key in ("label", "text", "hint", "footer"):
                        if cell.get(key):
                            add(cell[key])
    return out


def text_fields(form: Form) -> list[str]:
    return [f.id for f in form.fields.values() if f.type == "text"]


def documents() -> list[tuple[str, list[Form]]]:
    """Return (name, forms) of the documents: one packet per category, then each standalone form."""
    docs = [(category, [f for f in packet_forms(category) if text_fields(f) and not f.get("rows")])
            for category in CATEGORIES]
    return docs + [(key, [load_forms()[key]]) for key in STANDALONE]


def typed_values(ctx: dict, filler: tuple[str, str, str] = ("经", "与", "核对"), shift: int = 0) -> dict:
    """Given the campaign context, return document name → form key → field → the value typed.

    Each form's printed texts are dealt over its text fields in every document that holds it,
    several to a value when there are more texts than fields, each inside a sentence
    ('经企业名称与工程名称核对').
    """
    docs = documents()
    holders: dict[str, list[str]] = {}
    for name, forms in docs:
        for form in forms:
            holders.setdefault(form.key, []).append(name)
    values: dict[str, dict] = {name: {} for name, _ in docs}
    forms = load_forms()
    for key, names in holders.items():
        texts = as_printed(forms[key], ctx)
        fields = text_fields(forms[key])
        slots = len(names) * len(fields)
        per_value = max(1, math.ceil(len(texts) / slots))
        deal = texts * (1 + (slots * per_value) // max(1, len(texts)))
        deal = deal[shift % len(texts):] + deal[: shift % len(texts)]
        n = 0
        for name in names:
            values[name][key] = {}
            for fid in fields:
                pieces = deal[n: n + per_value]
                n += per_value
                head, mid, tail = filler
                values[name][key][fid] = head + mid.join(pieces) + tail
    return values


def covered(values: dict, ctx: dict) -> set[tuple[str, str]]:
    """Given the typed values, return the (form key, printed text) pairs some value holds."""
    out = set()
    for forms in values.values():
        for key, fields in forms.items():
            for text in as_printed(load_forms()[key], ctx):
                if any(text in v for v in fields.values()):
                    out.add((key, text))
    return out


def render(name: str, typed: dict, path, ctx: dict):
    """Given a document name and its typed values by form key, write it from the templates and return its path."""
    from pipeline.generating.packet import render_form, render_packet

    if name in STANDALONE:
        return render_form(name, path, ctx, typed[name])
    by_form = {key.split(".")[0]: dict(v) for key, v in typed.items()}
    by_form.setdefault("cover", {})["category"] = name
    return render_packet(name, by_form, path, ctx)


def read_back(doc: Document) -> dict:
    """Given a Document, return form key → values extracted."""
    return {form.key: values for form, values in extract_document(doc)}


def wrong_values(typed: dict, found: dict) -> list:
    """Given the typed values of one document and what was read, return (form, field, typed, read) for each that differs."""
    return [(key, fid, value, (found.get(key) or {}).get(fid))
            for key, fields in typed.items() for fid, value in fields.items()
            if (found.get(key) or {}).get(fid) != value]


def test_the_documents_cover_every_printed_text_of_every_form():
    ctx = load_campaign(DEFAULT_CAMPAIGN).context()
    values = typed_values(ctx)
    everything = {(key, text) for name, forms in documents() for form in forms
                  for key, text in ((form.key, t) for t in as_printed(form, ctx))}
    assert everything and covered(values, ctx) == everything
    # as_printed holds what the extractor treats as printed (campaign placeholders aside).
    for _, forms in documents():
        for form in forms:
            mine = {fold(t) for t in as_printed(form, ctx)}
            assert {t for t in printed_texts(form) if "{{" not in t and len(t) >= 2} <= mine, form.key


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """The documents as .docx, and as LibreOffice's .doc and PDF of them (one batch each): (paths by kind, typed values)."""
    ctx = load_campaign(DEFAULT_CAMPAIGN).context()

    def make(root):
        values = typed_values(ctx)
        docx = {name: str(render(name, values[name], root / f"{name}.docx", ctx)) for name, _ in documents()}
        paths = {"docx": docx}
        for target in ("doc", "pdf"):
            done = office.convert([root / f"{n}.docx" for n in docx], target, root / target)
            paths[target] = {n: str(done[root / f"{n}.docx"]) for n in docx}
        return paths, values

    return _once(tmp_path_factory, "exact-values", make)[1]


def _read(kind: str, path: str, tmp_path) -> Document:
    from pathlib import Path

    if kind == "pdf":
        return read_pdf(Path(path), Path(path).name)
    if kind == "doc":
        out = office.convert([Path(path)], "docx", tmp_path)[Path(path)]
        return read_docx(out, Path(path).name)
    return read_docx(Path(path), Path(path).name)


@pytest.mark.parametrize("kind", ["docx", "doc", "pdf"])
def test_a_value_holding_printed_text_comes_back_unchanged(converted, kind, tmp_path):
    paths, values = converted
    from pathlib import Path

    if kind == "doc":  # one LibreOffice batch back to .docx, as parsing does
        done = office.convert([Path(p) for p in paths["doc"].values()], "docx", tmp_path)
        docs = {n: read_docx(done[Path(p)], Path(p).name) for n, p in paths["doc"].items()}
    else:
        docs = {n: _read(kind, p, tmp_path) for n, p in paths[kind].items()}
    wrong = {name: wrong_values(values[name], read_back(doc)) for name, doc in docs.items()}
    assert {n: w for n, w in wrong.items() if w} == {}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.tuples(*[st.text(alphabet="经与核对并且其中按照说明的", min_size=1, max_size=3)] * 3),
       st.integers(0, 200))
def test_any_sentence_around_printed_text_comes_back_unchanged_from_docx(tmp_path_factory, filler, shift):
    ctx = load_campaign(DEFAULT_CAMPAIGN).context()
    values = typed_values(ctx, filler, shift)
    root = tmp_path_factory.mktemp("exact")
    for name in ("construction", "summary_table"):
        doc = read_docx(render(name, values[name], root / f"{name}.docx", ctx), f"{name}.docx")
        assert wrong_values(values[name], read_back(doc)) == [], name
