"""The baselines, each run as its own process (`python -m benchmarks.baselines KIND ARGS…`), so
process start counts for them as it does for `manyi`.

- `docx2python JOBS FILE…`: docx2python extracts every file, JOBS processes;
- `soffice-each TARGET OUTDIR FILE…`: one LibreOffice start per file;
- `docxtpl JOBS OUTDIR CATEGORY N`: N packets, each a plain `DocxTemplate(path).render()` (the template
  parsed again for every applicant), from the same joined packet template and context as `manyi packet`;
- `certificate-each OUTDIR WINNERS N`: N winners' certificates, each converted by its own LibreOffice start.
"""

from __future__ import annotations

import sys
from multiprocessing import Pool
from pathlib import Path


def _docx2python(path: str) -> int:
    from docx2python import docx2python

    with docx2python(path) as doc:
        return len(doc.text)


def docx2python_all(jobs: int, files: list[str]) -> None:
    with Pool(jobs) as pool:
        pool.map(_docx2python, files, chunksize=4)


def soffice_each(target: str, outdir: str, files: list[str]) -> None:
    from pipeline.common import office

    for n, path in enumerate(files):
        result = office.convert([Path(path)], target, Path(outdir) / f"{n:03d}")[Path(path)]
        if not isinstance(result, Path):
            raise SystemExit(f"{path}: {result}")


def _docxtpl_one(task: tuple) -> None:
    from docxtpl import DocxTemplate

    from pipeline.word.render import environment

    template, context, out = task
    doc = DocxTemplate(template)
    doc.render(context, environment(), autoescape=True)
    doc.save(out)


def docxtpl_all(jobs: int, outdir: str, category: str, n: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import corpus

    from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
    from pipeline.generating.packet import packet_context, packet_template

    values = corpus.packet_values(category)
    values = {form: {k: v for k, v in fields.items() if isinstance(v, (str, int, float))}
              for form, fields in values.items() if isinstance(fields, dict)}
    context = packet_context(load_campaign(DEFAULT_CAMPAIGN).context(), values, category)
    template = str(packet_template(category))
    Path(outdir).mkdir(parents=True, exist_ok=True)
    tasks = [(template, context, str(Path(outdir) / f"{i:04d}.docx")) for i in range(n)]
    with Pool(jobs) as pool:
        pool.map(_docxtpl_one, tasks, chunksize=1)


def certificate_each(outdir: str, winners: str, n: int) -> None:
    """The first n winners' certificates written by `make_certificates` (no PDF), then each converted alone."""
    from pipeline.common import office
    from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
    from pipeline.issuing.certificates import make_certificates

    out = Path(outdir)
    result = make_certificates(Path(winners), out / "docx", load_campaign(DEFAULT_CAMPAIGN), out / "register.db")
    for i, docx in enumerate(result.files[:n]):
        made = office.convert([docx], "pdf", out / f"pdf{i:03d}")[docx]
        if not isinstance(made, Path):
            raise SystemExit(f"{docx}: {made}")


def main(argv: list[str]) -> None:
    kind, args = argv[0], argv[1:]
    if kind == "docx2python":
        docx2python_all(int(args[0]), args[1:])
    elif kind == "soffice-each":
        soffice_each(args[0], args[1], args[2:])
    elif kind == "docxtpl":
        docxtpl_all(int(args[0]), args[1], args[2], int(args[3]))
    elif kind == "certificate-each":
        certificate_each(args[0], args[1], int(args[2]))
    else:
        raise SystemExit(f"unknown baseline {kind}")


if __name__ == "__main__":
    main(sys.argv[1:])
