"""The association's keys: the secret behind the check codes, and a certificate authority that signs PDFs.

They live in a `keys/` folder of the workspace (or `<register>-keys/` beside a lone register file), never in
the campaign file or the database, so neither a campaign file passed around nor `workspace export` carries
them. `init_ca` makes a root certificate (ECDSA P-256, 20 years) and a signing certificate issued by it
(5 years); certificate PDFs are then signed (PAdES, by pyHanko) with the signing key, and anyone who trusts
the root (installed in Adobe Reader or WPS) sees an intact, trusted signature. `verify_pdf` checks a PDF's
signature against the root and that nothing was changed after it was signed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.common.errors import UserError

KEYS_DIR = "keys"
SECRET_FILE = "check-code.key"
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
SIGNER_CERT, SIGNER_KEY = "signer.pem", "signer-key.pem"
#: The signature field of a certificate PDF; its reason names the certificate's number.
FIELD_NAME = "manyi"
REASON_PREFIX = "证书编号 "
#: Room kept for the signature (CMS: an ECDSA signature and two certificates, about 1.5 KB): given, pyHanko does
#: not sign a dummy first to measure it, which was half the time of each signature.
SIGNATURE_BYTES = 8192


def keys_folder_of(register: Path | None = None, workspace: Path | None = None) -> Path:
    """Given a workspace folder, or else a lone register file, return the folder of the association's keys."""
    if workspace is not None:
        return Path(workspace) / KEYS_DIR
    register = Path(register)
    return register.with_name(f"{register.stem}-keys")


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner reads, once: O_EXCL, so two runs never keep two different keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def secret(folder: Path) -> bytes:
    """Given the keys folder, return the check-code secret, made (32 random bytes) the first time."""
    path = Path(folder) / SECRET_FILE
    if not path.is_file():
        try:
            write_private(path, secrets.token_bytes(32))
        except FileExistsError:
            pass  # another run made it a moment ago: use theirs
    return path.read_bytes()


def has_ca(folder: Path) -> bool:
    """Given the keys folder, return whether it holds a signing certificate and key."""
    return (Path(folder) / SIGNER_CERT).is_file() and (Path(folder) / SIGNER_KEY).is_file()


def _name(common: str, organisation: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def init_ca(folder: Path, organisation: str, now: datetime | None = None) -> Path:
    """Given the keys folder and the association's name, create its root CA and signing certificate there;
    return the root certificate's path (the file to install in a PDF reader). Refused when one exists."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder = Path(folder)
    if (folder / CA_CERT).exists() or has_ca(folder):
        raise UserError(f"{folder} 中已有证书签名用的根证书，未重新创建（重新创建会使已签名的 PDF 无法验证）")
    now = now or datetime.now(timezone.utc)
    ca_key, signer_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organisation} 证书根证书", organisation)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=365 * 20))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    signer = (x509.CertificateBuilder().subject_name(_name(f"{organisation} 证书签发", organisation))
              .issuer_name(ca_name).public_key(signer_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now).not_valid_after(now + timedelta(days=365 * 5))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                           crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))

    def private(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    write_private(folder / CA_KEY, private(ca_key))
    write_private(folder / SIGNER_KEY, private(signer_key))
    (folder / SIGNER_CERT).write_bytes(signer.public_bytes(serialization.Encoding.PEM))
    (folder / CA_CERT).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return folder / CA_CERT


def load_signer(folder: Path):
    """Given the keys folder, return the signer of its signing key and certificate (with the root in its chain)."""
    from pyhanko.sign import signers

    folder = Path(folder)
    signer = signers.SimpleSigner.load(str(folder / SIGNER_KEY), str(folder / SIGNER_CERT),
                                       ca_chain_files=(str(folder / CA_CERT),))
    if signer is None:
        raise UserError(f"{folder} 中的签名密钥无法读取")
    return signer


def sign_pdf(source: Path, target: Path, number: str, folder: Path, signer=None) -> Path:
    """Given a certificate PDF, where its signed copy goes, its number and the keys folder, write the copy
    signed (PAdES; the signature's reason names the number, so `verify_pdf` knows which certificate it is);
    return the target."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    from pipeline.common.files import atomic_path

    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, reason=f"{REASON_PREFIX}{number}",
                                        subfilter=SigSeedSubFilter.PADES)
    with open(source, "rb") as unsigned, atomic_path(Path(target)) as part:
        with open(part, "wb") as out:
            signers.sign_pdf(IncrementalPdfFileWriter(unsigned), meta, signer=signer or load_signer(folder), output=out,
                             bytes_reserved=SIGNATURE_BYTES)
    return Path(target)


#: Fewer PDFs than this are signed in this process: starting workers would cost more than it saves.
POOL_FROM = 40


def _sign_chunk(folder: str, jobs: list[tuple[str, str, str]]) -> int:
    """Given the keys folder and (source, target, number) triples, sign each with one signer; return the count."""
    signer = load_signer(Path(folder))
    for source, target, number in jobs:
        sign_pdf(Path(source), Path(target), number, Path(folder), signer)
    return len(jobs)


def sign_all(jobs: list[tuple[Path, Path, str]], folder: Path, processes: int | None = None) -> None:
    """Given (unsigned PDF, signed target, certificate number) triples and the keys folder, sign them all:
    in a pool of processes (one per CPU) when there are many, since each signature is CPU-bound hashing and
    ECDSA; every target is written whole or not at all (`sign_pdf`)."""
    triples = [(str(a), str(b), n) for a, b, n in jobs]
    processes = min(processes or os.cpu_count() or 1, max(1, len(triples) // (POOL_FROM // 2)))
    if processes <= 1 or len(triples) < POOL_FROM:
        _sign_chunk(str(folder), triples)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(triples) // processes)
    chunks = [triples[i:i + size] for i in range(0, len(triples), size)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for done in pool.map(_sign_chunk, [str(folder)] * len(chunks), chunks):
            pass  # map re-raises a worker's error here


@dataclass(frozen=True)
class PdfCheck:
    """What a certificate PDF's signature says: the number it names and what is wrong (empty: nothing)."""

    number: str | None
    problems: list[str]


def verify_pdf(path: Path, folder: Path) -> PdfCheck:
    """Given a PDF and the keys folder (its root certificate), return its number and every problem of its
    signature: none, several, not intact (changed after signing), not from the association, not covering the file."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    root = Path(folder) / CA_CERT
    if not root.is_file():
        raise UserError(f"找不到根证书 {root}：请先运行 manyi register ca init，或指定颁发证书时所用的工作区/登记簿")
    try:
        with open(path, "rb") as f:
            reader = PdfFileReader(f, strict=False)
            signatures = reader.embedded_signatures
            if len(signatures) != 1:
                return PdfCheck(None, ["文件没有数字签名" if not signatures else f"文件有 {len(signatures)} 个签名（证书只应有一个）"])
            sig = signatures[0]
            reason = str(sig.sig_object.get("/Reason", ""))
            number = reason.removeprefix(REASON_PREFIX).strip() if reason.startswith(REASON_PREFIX) else None
            status = validate_pdf_signature(sig, ValidationContext(trust_roots=[load_cert_from_pemder(str(root))]))
    except Exception as exc:  # a damaged file: pyHanko raises many kinds; each means "cannot be trusted"
        return PdfCheck(None, [f"文件已损坏或被改动，无法读取签名（{type(exc).__name__}）"])
    problems = []
    if not status.intact:
        problems.append("签名后文件内容被改动")
    if not status.valid:
        problems.append("签名无效")
    if not status.trusted:
        problems.append("签名不是本协会的根证书签发的")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("签名之后文件又被追加了内容")
    if number is None:
        problems.append("签名中没有证书编号")
    return PdfCheck(number, problems)
