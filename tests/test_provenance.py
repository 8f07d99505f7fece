"""C2PA signing and verification with the real c2pa library on real MP4 files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from moviepy.config import FFMPEG_BINARY

from reelfactory import provenance
from reelfactory.provenance import (
    ASSERTION_LABEL,
    DIGITAL_SOURCE_TYPE,
    ProvenanceError,
    SigningIdentity,
    sign_video,
    signing_identity,
    trust_anchors,
    verify_video,
)
from reelfactory.settings import Settings

PRODUCTION = {
    "brief_id": "aurora-launch",
    "brand": "aurora-coffee",
    "models": ["animatic"],
    "version": 3,
    "approval": {"ref": "appr-42", "approved_by": "ana@example.com", "note": None},
    "headline": "Café ☕ au lait",
    "cost_usd": 1.25,
}


def make_mp4(path: Path, *, seconds: float = 1, size: str = "64x48", fps: int = 12) -> Path:
    """H.264 + AAC with the moov atom up front, as reelfactory.media.write_video writes."""
    subprocess.run(
        [
            FFMPEG_BINARY, "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-movflags", "+faststart", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def top_level_box(data: bytes, box: bytes) -> tuple[int, int]:
    """(offset, size) of the first top-level ISO BMFF box of this type."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = int.from_bytes(data[offset : offset + 4], "big"), data[offset + 4 : offset + 8]
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            size = len(data) - offset
        if kind == box:
            return offset, size
        offset += size
    raise AssertionError(f"no {box!r} box")


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mp4(tmp_path_factory.mktemp("media") / "unsigned.mp4")


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    return signing_identity(Settings(data_dir=tmp_path_factory.mktemp("data")), log=lambda m: None)


@pytest.fixture(scope="module")
def signed(
    unsigned: Path, identity: SigningIdentity, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    dst = tmp_path_factory.mktemp("signed") / "signed.mp4"
    sign_video(unsigned, dst, identity=identity, title="Aurora launch", production=PRODUCTION)
    return dst


def test_dev_ca_is_created_once_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    messages: list[str] = []
    first = signing_identity(settings, log=messages.append)
    second = signing_identity(settings, log=messages.append)

    assert first == second
    assert first.source == f"development CA at {settings.c2pa_dir}"
    assert first.trust_anchors_pem == trust_anchors(settings)
    assert len(messages) == 1
    assert "development" in messages[0].lower() and str(settings.c2pa_dir) in messages[0]
    assert "not trusted" in messages[0]
    for key in ("ca.key", "signer.key"):
        assert (settings.c2pa_dir / key).stat().st_mode & 0o777 == 0o600
    assert not list(settings.c2pa_dir.glob(".*.part*")), "temp files left behind"


def test_dev_ca_leaf_is_a_c2pa_signing_certificate(identity: SigningIdentity) -> None:
    leaf, ca = x509.load_pem_x509_certificates(identity.cert_chain_pem)
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert dt.timedelta(days=700) < lifetime < dt.timedelta(days=760)


def test_expiring_dev_leaf_is_renewed_under_the_same_ca(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = signing_identity(settings, log=lambda m: None)
    directory = settings.c2pa_dir
    ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    leaf_key = serialization.load_pem_private_key(first.key_pem, None)
    assert isinstance(leaf_key, ec.EllipticCurvePrivateKey)
    old = provenance._issue_leaf(
        leaf_key.public_key(), ca_key, ca, not_before=provenance._now(), days=5
    )
    (directory / "signer.pem").write_bytes(provenance._cert_pem(old) + provenance._cert_pem(ca))

    messages: list[str] = []
    renewed = signing_identity(settings, log=messages.append)

    assert messages and "Renewed" in messages[0]
    assert renewed.trust_anchors_pem == first.trust_anchors_pem
    assert renewed.key_pem != first.key_pem
    leaf = x509.load_pem_x509_certificates(renewed.cert_chain_pem)[0]
    assert leaf.not_valid_after_utc > provenance._now() + dt.timedelta(days=700)


def test_key_never_in_repr(identity: SigningIdentity) -> None:
    assert b"PRIVATE KEY" in identity.key_pem
    assert "PRIVATE KEY" not in repr(identity)
    assert identity.key_pem.decode() not in repr(identity)


def test_sign_then_verify_trusted_with_dev_ca(
    unsigned: Path, signed: Path, identity: SigningIdentity
) -> None:
    result = verify_video(signed, trust_anchors_pem=identity.trust_anchors_pem)

    assert result.state == "trusted", result.errors
    assert result.errors == []
    assert result.title == "Aurora launch"
    assert result.production == PRODUCTION
    assert result.digital_source_type == DIGITAL_SOURCE_TYPE
    assert result.signer is not None and "reelfactory development signer" in result.signer


def test_signing_leaves_src_untouched(tmp_path: Path, identity: SigningIdentity) -> None:
    src = make_mp4(tmp_path / "src.mp4")
    before = src.read_bytes()
    sign_video(src, tmp_path / "out.mp4", identity=identity, title="t", production={})
    assert src.read_bytes() == before
    assert verify_video(src, trust_anchors_pem=None).state == "missing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "src.mp4"]


def test_sign_refuses_to_overwrite_src(unsigned: Path, identity: SigningIdentity) -> None:
    with pytest.raises(ValueError, match="differ"):
        sign_video(unsigned, unsigned, identity=identity, title="t", production={})


def test_without_anchors_valid_and_state_does_not_leak(
    signed: Path, identity: SigningIdentity, tmp_path: Path
) -> None:
    other = signing_identity(Settings(data_dir=tmp_path), log=lambda m: None)
    anchors = identity.trust_anchors_pem
    states = [
        verify_video(signed, trust_anchors_pem=a).state
        for a in (anchors, None, anchors, other.trust_anchors_pem, anchors)
    ]
    assert states == ["trusted", "valid", "trusted", "valid", "trusted"]
    valid = verify_video(signed, trust_anchors_pem=None)
    assert valid.production == PRODUCTION and valid.errors == []


def test_concurrent_verifications_keep_their_own_anchors(
    signed: Path, identity: SigningIdentity
) -> None:
    anchors = [identity.trust_anchors_pem, None] * 12
    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(lambda a: verify_video(signed, trust_anchors_pem=a).state, anchors))
    assert states == ["trusted", "valid"] * 12


def test_one_flipped_media_byte_is_invalid(
    signed: Path, identity: SigningIdentity, tmp_path: Path
) -> None:
    data = bytearray(signed.read_bytes())
    offset, size = top_level_box(bytes(data), b"mdat")
    data[offset + size - 16] ^= 0x01
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))

    result = verify_video(tampered, trust_anchors_pem=identity.trust_anchors_pem)

    assert result.state == "invalid"
    assert result.errors
    assert any("mismatch" in e for e in result.errors), result.errors


def test_damaged_manifest_is_invalid_not_an_exception(signed: Path, tmp_path: Path) -> None:
    data = bytearray(signed.read_bytes())
    at = data.index(ASSERTION_LABEL.encode())
    data[at + 40] ^= 0xFF
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))

    result = verify_video(broken, trust_anchors_pem=None)

    assert result.state == "invalid" and result.errors


def test_truncated_file_is_invalid(signed: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(signed.read_bytes()[:-100])
    assert verify_video(cut, trust_anchors_pem=None).state == "invalid"


def test_unsigned_file_is_missing(unsigned: Path) -> None:
    result = verify_video(unsigned, trust_anchors_pem=None)
    assert result == provenance.Verification("missing", [], None, None, None, None)


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify_video(tmp_path / "nope.mp4", trust_anchors_pem=None)


def test_bad_trust_anchors_raise(signed: Path) -> None:
    with pytest.raises(ProvenanceError, match="trust anchors"):
        verify_video(signed, trust_anchors_pem=b"not a certificate")


def test_configured_key_without_chain_names_the_missing_setting(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(b"unused")
    settings = Settings(data_dir=tmp_path, c2pa_key_path=key)
    with pytest.raises(ProvenanceError, match="REEL_C2PA_CERT_CHAIN_PATH"):
        signing_identity(settings)
    assert not settings.c2pa_dir.exists(), "no development CA when a key is configured"


def test_configured_files_must_exist(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, c2pa_key_path=tmp_path / "k.pem", c2pa_cert_chain_path=tmp_path / "c"
    )
    with pytest.raises(ProvenanceError, match=r"REEL_C2PA_KEY_PATH=.*k\.pem: no such file"):
        signing_identity(settings)


def test_configured_identity_signs_and_mismatched_key_is_refused(
    identity: SigningIdentity, unsigned: Path, tmp_path: Path
) -> None:
    key, chain, anchors = tmp_path / "key.pem", tmp_path / "chain.pem", tmp_path / "ca.pem"
    key.write_bytes(identity.key_pem)
    chain.write_bytes(identity.cert_chain_pem)
    assert identity.trust_anchors_pem is not None
    anchors.write_bytes(identity.trust_anchors_pem)
    settings = Settings(
        data_dir=tmp_path / "data",
        c2pa_key_path=key,
        c2pa_cert_chain_path=chain,
        c2pa_trust_anchors_path=anchors,
    )

    configured = signing_identity(settings)
    assert configured.source == "configured"
    assert configured.trust_anchors_pem == trust_anchors(settings) == identity.trust_anchors_pem
    out = tmp_path / "out.mp4"
    sign_video(unsigned, out, identity=configured, title="configured", production={"n": 1})
    assert verify_video(out, trust_anchors_pem=configured.trust_anchors_pem).state == "trusted"

    other_key = ec.generate_private_key(ec.SECP256R1())
    key.write_bytes(provenance._key_pem(other_key))
    with pytest.raises(ProvenanceError, match="does not match") as err:
        signing_identity(settings)
    assert "PRIVATE KEY" not in str(err.value)


def test_trust_anchors_none_without_dev_ca(tmp_path: Path) -> None:
    assert trust_anchors(Settings(data_dir=tmp_path)) is None


def test_reel_verify_reports_trusted_invalid_and_missing(tmp_path: Path) -> None:
    """The CLI end of it: the dev CA made on first use is the trust anchor `reel verify` uses."""
    from typer.testing import CliRunner

    from reelfactory.cli import app

    settings = Settings(data_dir=tmp_path / "data")
    identity = signing_identity(settings, log=lambda _msg: None)
    video = tmp_path / "cut.mp4"
    sign_video(
        make_mp4(tmp_path / "raw.mp4"),
        video,
        identity=identity,
        title="t",
        production={"brief_id": "b"},
    )
    runner = CliRunner(env={"REEL_DATA_DIR": str(tmp_path / "data")})

    ok = runner.invoke(app, ["verify", str(video), "--json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout.strip().splitlines()[-1])
    assert report["state"] == "trusted" and report["production"] == {"brief_id": "b"}
    assert report["digital_source_type"] == DIGITAL_SOURCE_TYPE

    data = bytearray(video.read_bytes())
    start, size = top_level_box(bytes(data), b"mdat")
    data[start + size - 100] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    bad = runner.invoke(app, ["verify", str(tampered), "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout.strip().splitlines()[-1])["state"] == "invalid"

    missing = runner.invoke(app, ["verify", str(tmp_path / "raw.mp4"), "--json"])
    assert missing.exit_code == 1 and '"state": "missing"' in missing.stdout
    nothing = runner.invoke(app, ["verify", str(tmp_path / "nope.mp4")])
    assert nothing.exit_code == 2 and "no such file" in nothing.output
