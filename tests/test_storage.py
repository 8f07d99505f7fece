from __future__ import annotations

from pathlib import Path

import pytest

from reelfactory.files import atomic_path
from reelfactory.storage import LocalAssetStore


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "final.mp4"
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert list((tmp_path / "out").iterdir()) == []


def test_asset_store_refuses_escaping_keys(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path)
    with pytest.raises(ValueError, match="escapes"):
        store.path_for("../../etc/passwd")


def test_asset_store_detects_changed_bytes(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path)
    store.path_for("a.txt").write_text("one")
    ref = store.ref("a.txt", "text/plain")
    assert store.local_path(ref) == store.path_for("a.txt")
    store.path_for("a.txt").write_text("two")
    with pytest.raises(ValueError, match="changed"):
        store.local_path(ref)
