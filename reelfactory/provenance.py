"""C2PA provenance: sign rendered MP4s with Content Credentials and verify them.

Signing uses the configured key and chain, or else a local development CA that is made
under ``settings.c2pa_dir`` on first use. Files signed with that CA verify as ``valid``
everywhere, and as ``trusted`` only where its ``ca.pem`` is given as a trust anchor.

c2pa-python 0.38 takes settings per ``Context``. Each call here builds its own Context with
every trust setting spelled out (including "no anchors"), so nothing process-global is read
or written and one call's anchors never leak into the next. The deprecated
``c2pa.load_settings`` is never used: Reader and Builder in 0.38 ignore it anyway.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import c2pa  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reelfactory.files import atomic_path

if TYPE_CHECKING:
    from reelfactory.settings import Settings

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ASSERTION_LABEL = "com.reelfactory.production"
MIME_TYPE = "video/mp4"
GENERATOR = "reelfactory"
ACTIONS_LABELS = ("c2pa.actions", "c2pa.actions.v2")

CA_CERT, CA_KEY, SIGNER_CHAIN, SIGNER_KEY = "ca.pem", "ca.key", "signer.pem", "signer.key"
CA_DAYS, LEAF_DAYS, RENEW_BEFORE_DAYS = 3650, 730, 30

# Offline and explicit: no remote manifests, no OCSP, no thumbnails (none for video anyway).
_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
_SIGN_SETTINGS = {**_OFFLINE, "builder": {"thumbnail": {"enabled": False}}}

logger = logging.getLogger(__name__)


class ProvenanceError(RuntimeError):
    """Signing or verification cannot run: a missing or unusable key, chain or anchor."""


@dataclass(frozen=True)
class SigningIdentity:
    """What signs: a PEM key, its PEM chain (signing certificate first) and the anchors."""

    key_pem: bytes = field(repr=False)
    cert_chain_pem: bytes
    trust_anchors_pem: bytes | None
    source: str


State = Literal["trusted", "valid", "invalid", "missing"]
_STATES: dict[str | None, State] = {"Trusted": "trusted", "Valid": "valid"}


@dataclass(frozen=True)
class Verification:
    """What a file's Content Credentials say; fields other than ``state`` are its claims."""

    state: State
    errors: list[str]
    title: str | None
    production: dict[str, Any] | None
    digital_source_type: str | None
    signer: str | None


# --- identity ----------------------------------------------------------------------------


def signing_identity(
    settings: Settings, *, log: Callable[[str], None] | None = None
) -> SigningIdentity:
    """The configured key and chain, or the development CA (made and announced once)."""
    if settings.c2pa_key_path is not None or settings.c2pa_cert_chain_path is not None:
        return _configured_identity(settings)
    return _development_identity(settings.c2pa_dir, log or logger.warning)


def trust_anchors(settings: Settings) -> bytes | None:
    """The configured trust anchors, else the development CA if it exists, else None."""
    if settings.c2pa_trust_anchors_path is not None:
        return _read_anchors(settings.c2pa_trust_anchors_path)
    ca = settings.c2pa_dir / CA_CERT
    return ca.read_bytes() if ca.is_file() else None


def _configured_identity(settings: Settings) -> SigningIdentity:
    key_path = _setting_file("REEL_C2PA_KEY_PATH", settings.c2pa_key_path)
    chain_path = _setting_file("REEL_C2PA_CERT_CHAIN_PATH", settings.c2pa_cert_chain_path)
    key_pem, chain_pem = key_path.read_bytes(), chain_path.read_bytes()
    _check_key_and_chain(key_pem, chain_pem, key_path, chain_path)
    anchors_path = settings.c2pa_trust_anchors_path
    return SigningIdentity(
        key_pem=key_pem,
        cert_chain_pem=chain_pem,
        trust_anchors_pem=_read_anchors(anchors_path) if anchors_path else None,
        source="configured",
    )


def _setting_file(name: str, path: Path | None) -> Path:
    if path is None:
        raise ProvenanceError(
            f"{name} is not set: REEL_C2PA_KEY_PATH and REEL_C2PA_CERT_CHAIN_PATH go "
            "together (unset both to sign with the local development CA)"
        )
    if not path.is_file():
        raise ProvenanceError(f"{name}={path}: no such file")
    return path


def _read_anchors(path: Path) -> bytes:
    if not path.is_file():
        raise ProvenanceError(f"REEL_C2PA_TRUST_ANCHORS_PATH={path}: no such file")
    data = path.read_bytes()
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ProvenanceError(
            f"REEL_C2PA_TRUST_ANCHORS_PATH={path}: no PEM certificates in it"
        ) from exc
    return data


def _check_key_and_chain(key_pem: bytes, chain_pem: bytes, key_path: Path, chain: Path) -> None:
    """Fail early and clearly on what c2pa would reject obscurely. Never echoes the key."""
    try:
        leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    except ValueError as exc:
        raise ProvenanceError(f"REEL_C2PA_CERT_CHAIN_PATH={chain}: no PEM certificates") from exc
    key = _load_key(key_pem, f"REEL_C2PA_KEY_PATH={key_path}")
    _algorithm(key)
    if _public_der(key.public_key()) != _public_der(leaf.public_key()):
        raise ProvenanceError(
            f"REEL_C2PA_KEY_PATH={key_path} does not match the first certificate in "
            f"REEL_C2PA_CERT_CHAIN_PATH={chain} (the signing certificate goes first)"
        )


def _load_key(key_pem: bytes, where: str) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ProvenanceError(f"{where}: not an unencrypted PEM private key") from exc


def _public_der(public_key: PublicKeyTypes | CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _algorithm(key: PrivateKeyTypes) -> Any:
    """The C2PA algorithm for a key: ES256/384/512 by curve, PS256 for RSA, Ed25519."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
        if key.curve.name in by_curve:
            return getattr(c2pa.C2paSigningAlg, by_curve[key.curve.name])
    elif isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    raise ProvenanceError(f"C2PA cannot sign with a {type(key).__name__} key")


# --- development CA ----------------------------------------------------------------------


def _development_identity(directory: Path, log: Callable[[str], None]) -> SigningIdentity:
    with _locked(directory):
        if not _dev_ca_usable(directory):
            _create_dev_ca(directory)
            log(
                f"Created a local DEVELOPMENT C2PA signing CA in {directory}. Videos signed "
                "with it verify as valid but are not trusted anywhere else unless "
                f"{directory / CA_CERT} is given as a trust anchor. Set REEL_C2PA_KEY_PATH "
                "and REEL_C2PA_CERT_CHAIN_PATH to sign with your organisation's certificate."
            )
        elif _expires_soon(directory / SIGNER_CHAIN):
            _renew_dev_leaf(directory)
            log(f"Renewed the development C2PA signing certificate in {directory}.")
        return SigningIdentity(
            key_pem=(directory / SIGNER_KEY).read_bytes(),
            cert_chain_pem=(directory / SIGNER_CHAIN).read_bytes(),
            trust_anchors_pem=(directory / CA_CERT).read_bytes(),
            source=f"development CA at {directory}",
        )


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialize CA creation across processes and threads (flock on a lock file)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _dev_ca_usable(directory: Path) -> bool:
    names = (CA_CERT, CA_KEY, SIGNER_CHAIN, SIGNER_KEY)
    if not all((directory / n).is_file() for n in names):
        return False
    return not _expires_soon(directory / CA_CERT)


def _expires_soon(cert_path: Path) -> bool:
    """True also for an unreadable certificate, so that it gets replaced."""
    try:
        cert = x509.load_pem_x509_certificates(cert_path.read_bytes())[0]
    except ValueError:
        return True
    return cert.not_valid_after_utc < _now() + dt.timedelta(days=RENEW_BEFORE_DAYS)


def _create_dev_ca(directory: Path) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue_ca(ca_key)
    _write_private(directory / CA_KEY, _key_pem(ca_key))
    _write_public(directory / CA_CERT, _cert_pem(ca_cert))
    _write_dev_leaf(directory, ca_key, ca_cert)


def _renew_dev_leaf(directory: Path) -> None:
    ca_key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ProvenanceError(f"{directory / CA_KEY}: not the development CA's EC key")
    ca_cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
    _write_dev_leaf(directory, ca_key, ca_cert)


def _write_dev_leaf(
    directory: Path, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> None:
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue_leaf(leaf_key.public_key(), ca_key, ca_cert, not_before=_now())
    _write_private(directory / SIGNER_KEY, _key_pem(leaf_key))
    _write_public(directory / SIGNER_CHAIN, _cert_pem(leaf) + _cert_pem(ca_cert))


def _issue_ca(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = _name("reelfactory development CA (untrusted)")
    start = _now() - dt.timedelta(hours=1)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _issue_leaf(
    public_key: ec.EllipticCurvePublicKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    *,
    not_before: dt.datetime,
    days: int = LEAF_DAYS,
) -> x509.Certificate:
    """A C2PA claim-signing certificate: digitalSignature, emailProtection, SKI and AKI."""
    start = not_before - dt.timedelta(hours=1)
    return (
        x509.CertificateBuilder()
        .subject_name(_name("reelfactory development signer"))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "reelfactory development"),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically; the temp file is 0600 before the key goes into it."""
    with atomic_path(path) as tmp:
        tmp.touch(mode=0o600)
        tmp.chmod(0o600)  # touch keeps the mode of a leftover temp file
        tmp.write_bytes(data)


def _write_public(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


# --- signing -----------------------------------------------------------------------------


def sign_video(
    src: Path,
    dst: Path,
    *,
    identity: SigningIdentity,
    title: str,
    production: dict[str, Any],
    tsa_url: str | None = None,
) -> None:
    """Write ``src`` with an embedded, signed C2PA manifest to ``dst`` (atomically)."""
    if dst.resolve() == src.resolve():
        raise ValueError(f"sign_video: dst must differ from src ({src})")
    if not src.is_file():
        raise FileNotFoundError(f"no such file: {src}")
    manifest = json.dumps(_manifest(title, production))
    try:
        with (
            _signer(identity, tsa_url) as signer,
            c2pa.Context.from_dict(_SIGN_SETTINGS) as context,
            c2pa.Builder(manifest, context=context) as builder,
            atomic_path(dst) as tmp,
            src.open("rb") as source,
            tmp.open("w+b") as dest,
        ):
            builder.sign(signer, MIME_TYPE, source, dest)
    except c2pa.C2paError as exc:
        raise ProvenanceError(f"C2PA signing of {src} failed: {exc}") from exc


def _signer(identity: SigningIdentity, tsa_url: str | None) -> Any:
    algorithm = _algorithm(_load_key(identity.key_pem, f"signing key ({identity.source})"))
    info = c2pa.C2paSignerInfo(algorithm, identity.cert_chain_pem, identity.key_pem, tsa_url)
    return c2pa.Signer.from_info(info)


def _manifest(title: str, production: dict[str, Any]) -> dict[str, Any]:
    agent = {"name": GENERATOR, "version": _version()}
    created = {
        "action": "c2pa.created",
        "digitalSourceType": DIGITAL_SOURCE_TYPE,
        "softwareAgent": agent,
    }
    return {
        "claim_generator_info": [agent],
        "title": title,
        "format": MIME_TYPE,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [created]}},
            {"label": ASSERTION_LABEL, "data": production},
        ],
    }


def _version() -> str:
    try:
        return metadata.version("reelfactory")
    except metadata.PackageNotFoundError:
        return "0.1.0"


# --- verification ------------------------------------------------------------------------


def verify_video(path: Path, *, trust_anchors_pem: bytes | None) -> Verification:
    """Read and validate the file's manifest; raises only for a missing file or bad anchors.

    ``trusted`` needs the signing chain to reach one of ``trust_anchors_pem``; with None no
    anchor is trusted (set explicitly in a fresh Context, so earlier calls cannot leak in).
    """
    with path.open("rb") as stream, _reader_context(trust_anchors_pem) as context:
        try:
            reader = c2pa.Reader.try_create(MIME_TYPE, stream, context=context)
            if reader is None:
                return Verification("missing", [], None, None, None, None)
            with reader:
                store: dict[str, Any] = json.loads(reader.json())
        except c2pa.C2paError as exc:
            # Unreadable manifest or container (tampered box, truncated file, not an MP4).
            return Verification("invalid", [str(exc)], None, None, None, None)
    return _verification(store)


def _reader_context(trust_anchors_pem: bytes | None) -> Any:
    anchors = trust_anchors_pem.decode() if trust_anchors_pem else None
    trust = {"trust_anchors": anchors, "user_anchors": None, "allowed_list": None}
    config = {"trust": trust, "verify": {**_OFFLINE["verify"], "verify_trust": True}}
    try:
        return c2pa.Context.from_dict(config)
    except c2pa.C2paError as exc:
        raise ProvenanceError(f"trust anchors are not usable PEM certificates: {exc}") from exc


def _verification(store: dict[str, Any]) -> Verification:
    """Pure: a Reader's JSON store -> Verification."""
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    state: State = _STATES.get(store.get("validation_state"), "invalid")
    return Verification(
        state=state,
        errors=_errors(store) if state == "invalid" else [],
        title=manifest.get("title"),
        production=_assertion(manifest, ASSERTION_LABEL),
        digital_source_type=_digital_source_type(manifest),
        signer=_signer_name(manifest.get("signature_info") or {}),
    )


def _errors(store: dict[str, Any]) -> list[str]:
    statuses = store.get("validation_status") or (
        store.get("validation_results", {}).get("activeManifest", {}).get("failure", [])
    )
    errors = [f"{s.get('code')}: {s.get('explanation', '')}".rstrip(": ") for s in statuses]
    return errors or [f"validation state {store.get('validation_state')!r}"]


def _assertion(manifest: dict[str, Any], label: str) -> dict[str, Any] | None:
    for assertion in manifest.get("assertions", []):
        if assertion.get("label") == label and isinstance(assertion.get("data"), dict):
            data: dict[str, Any] = assertion["data"]
            return data
    return None


def _digital_source_type(manifest: dict[str, Any]) -> str | None:
    for label in ACTIONS_LABELS:
        for action in (_assertion(manifest, label) or {}).get("actions", []):
            if action.get("action") == "c2pa.created" and action.get("digitalSourceType"):
                return str(action["digitalSourceType"])
    return None


def _signer_name(info: dict[str, Any]) -> str | None:
    common_name, issuer = info.get("common_name"), info.get("issuer")
    if common_name and issuer:
        return f"{common_name} (issued by {issuer})"
    return str(common_name or issuer) if common_name or issuer else None
