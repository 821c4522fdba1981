"""Rendering Word templates: docxtpl's tag clean-up, a sandboxed Jinja, compiled once per process.

A template is read and compiled once (`compiled`); each render then only runs the compiled
Jinja over the body XML and writes a new zip with the other parts copied as they are. Values
are autoescaped, so a company called `A&B <公司> {{x}}` prints literally, and the environment
is sandboxed, so a template edited to reach for `__globals__` fails with a clear message.
"""

from __future__ import annotations

import contextvars
import functools
import re
import zipfile
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment

from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path
from pipeline.common.text import TICKED, UNTICKED, xml_safe_text
from pipeline.word.paginate import row_pages

#: The boxes as printed: □ as in the seed, ■ when chosen; both are in the Chinese faces (☐ ☑ are not,
#: and would print in another font). The readers take them as unticked and ticked.
PRINTED_BOX, PRINTED_TICK = "□", "■"
assert PRINTED_BOX in UNTICKED and PRINTED_TICK in TICKED
_BODY = re.compile(r"<w:body>.*</w:body>|<w:body\b[^>]*>.*</w:body>", re.DOTALL)
#: The pictures printed by the render under way (each becomes a media part of the document it writes).
_PICTURES: contextvars.ContextVar[list | None] = contextvars.ContextVar("pictures", default=None)
_EMU_PER_CM = 360000
_IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"


class Picture:
    """A PNG printed inline where its tag stands, alone in its paragraph (`{{ w.qr }}`), `size_cm` square.

    Printing it writes a run holding the drawing; the render adds the image part and its relationship.
    Not a str: the printed values' clean-up leaves it alone and autoescape takes its `__html__` as it is.
    """

    def __init__(self, png: bytes, size_cm: float):
        self.png, self.size_cm = png, size_cm

    def __html__(self) -> str:
        pictures = _PICTURES.get()
        if pictures is None:
            return ""
        pictures.append(self)
        n = len(pictures)
        emu = int(self.size_cm * _EMU_PER_CM)
        return ('</w:t></w:r><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
                f'<wp:extent cx="{emu}" cy="{emu}"/><wp:docPr id="{90000 + n}" name="picture {n}"/>'
                '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
                '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
                '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
                f'<pic:nvPicPr><pic:cNvPr id="{90000 + n}" name="picture{n}.png"/><pic:cNvPicPr/></pic:nvPicPr>'
                f'<pic:blipFill><a:blip r:embed="rIdManyiPicture{n}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
                f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{emu}" cy="{emu}"/></a:xfrm>'
                '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
                '</wp:inline></w:drawing></w:r><w:r><w:t xml:space="preserve">')


def _with_pictures(parts: dict[str, bytes], pictures: list[Picture]) -> dict[str, bytes]:
    """Given a document's parts and the pictures its body printed, return the parts with their images added."""
    if not pictures:
        return parts
    parts = dict(parts)
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    added = "".join(f'<Relationship Id="rIdManyiPicture{n}" Type="{_IMAGE_REL}" Target="media/manyi-picture{n}.png"/>'
                    for n in range(1, len(pictures) + 1))
    parts["word/_rels/document.xml.rels"] = rels.replace("</Relationships>", added + "</Relationships>").encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    if 'Extension="png"' not in types:
        types = types.replace("<Default ", '<Default Extension="png" ContentType="image/png"/><Default ', 1)
        parts["[Content_Types].xml"] = types.encode("utf-8")
    for n, picture in enumerate(pictures, start=1):
        parts[f"word/media/manyi-picture{n}.png"] = picture.png
    return parts


def box(values: dict, field: str, option) -> str:
    """Given field values, a field id and an option, return ■ when that option is chosen, else □."""
    value = (values or {}).get(field)
    if isinstance(value, (list, tuple)):
        chosen = option in value
    else:
        chosen = value == option or (isinstance(option, bool) and value is option)
    return PRINTED_TICK if chosen else PRINTED_BOX


def numbered(items, lines: int) -> str:
    """Given a list of names, return 'n name' lines, padded with bare numbers to `lines`."""
    items = list(items or [])
    return "\n".join(f"{i}  {items[i - 1] if i <= len(items) else ''}".rstrip() for i in range(1, max(lines, len(items)) + 1))


class _StrictSandbox(SandboxedEnvironment):
    """The sandbox, but reaching for an unsafe attribute fails instead of printing nothing."""

    def unsafe_undefined(self, obj, attribute):
        raise jinja2.exceptions.SecurityError(f"不允许访问 {attribute!r}")


def environment() -> SandboxedEnvironment:
    """Return the Jinja environment every template renders in: sandboxed, autoescaped, lenient."""
    env = _StrictSandbox(autoescape=True, undefined=jinja2.ChainableUndefined, keep_trailing_newline=True)
    # Every printed value passes here: characters XML refuses would make Word reject the file.
    env.finalize = lambda value: xml_safe_text(value) if isinstance(value, str) else value
    env.globals.update(numbered=numbered, box=box, row_pages=row_pages)
    return env


class CompiledTemplate:
    """A .docx template read and compiled once; `render` writes one filled document."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            doc = DocxTemplate(str(self.path))
            doc.init_docx()
            body = doc.patch_xml(doc.get_xml())
            with zipfile.ZipFile(self.path) as zf:
                self.parts = {info.filename: zf.read(info) for info in zf.infolist()}
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise UserError(f"模板 {self.path.name} 无法打开：{exc}") from exc
        self.document_xml = self.parts["word/document.xml"].decode("utf-8")
        if not _BODY.search(self.document_xml):
            raise UserError(f"模板 {self.path.name} 不是有效的 Word 文档（找不到正文）")
        self._doc = doc
        try:
            self.template = environment().from_string(body)
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(f"模板 {self.path.name} 中的标记写法有误（第 {exc.lineno} 行附近）：{exc.message}。"
                            f"可用 manyi templates check 查看详情") from exc

    def render_bytes(self, context: dict, pictures: list | None = None) -> bytes:
        """Given a context, return the bytes of the filled document.xml (the Pictures it printed go in `pictures`)."""
        token = _PICTURES.set(pictures if pictures is not None else [])
        try:
            body = self.template.render(context)
        except jinja2.exceptions.SecurityError as exc:
            raise UserError(f"模板 {self.path.name} 含有不允许的表达式：{exc}") from exc
        except jinja2.TemplateError as exc:
            raise UserError(f"模板 {self.path.name} 填充失败：{exc}") from exc
        finally:
            _PICTURES.reset(token)
        body = body.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        body = self._doc.resolve_listing(body)
        # Only the body was compiled; the root element and its namespaces come from the template.
        return _BODY.sub(lambda _m: body, self.document_xml, count=1).encode("utf-8")

    def render(self, context: dict, out: Path) -> Path:
        """Given a context and an output path, write the filled .docx there atomically."""
        pictures: list[Picture] = []
        document = self.render_bytes(context, pictures)
        with atomic_path(Path(out)) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, data in _with_pictures(self.parts, pictures).items():
                    zf.writestr(name, document if name == "word/document.xml" else data)
        return Path(out)


@functools.lru_cache(maxsize=64)
def _compiled(path: str, mtime: float) -> CompiledTemplate:
    return CompiledTemplate(Path(path))


def compiled(path: Path) -> CompiledTemplate:
    """Given a template path, return it compiled, from a per-process cache (reloaded when edited)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到模板：{path}")
    return _compiled(str(path.resolve()), path.stat().st_mtime)


def render_docx(template: Path, context: dict, out: Path) -> Path:
    """Given a template, a context and an output path, write the filled .docx and return its path."""
    return compiled(template).render(context, out)
