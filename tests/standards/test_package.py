"""The package writer: all or nothing, manifest from the bytes on disk, verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cletrial.errors import StandardsError
from cletrial.standards.package import MANIFEST, PackageFile, verify_package, write_package


def _text(text: str) -> PackageFile:
    return PackageFile(f"{text}.txt", lambda p: p.write_text(text))


def test_manifest_lists_every_file_with_its_hash(tmp_path: Path) -> None:
    files = [_text("b"), PackageFile("sdtm/dm.xpt", lambda p: p.write_bytes(b"\0" * 10), "DM", 3)]
    manifest = write_package(tmp_path / "out", files, about={"deidentified": True})
    on_disk = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert on_disk == manifest
    assert [f["path"] for f in manifest["files"]] == ["b.txt", "sdtm/dm.xpt"]
    dm = manifest["files"][1]
    assert (dm["dataset"], dm["rows"], dm["bytes"]) == ("DM", 3, 10)
    assert dm["sha256"] == hashlib.sha256(b"\0" * 10).hexdigest()
    assert verify_package(tmp_path / "out") == []


def test_a_failing_writer_leaves_nothing(tmp_path: Path) -> None:
    def fail(path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_package(tmp_path / "out", [_text("a"), PackageFile("z.txt", fail)])
    assert list(tmp_path.iterdir()) == []


def test_an_existing_package_is_kept_unless_overwrite(tmp_path: Path) -> None:
    write_package(tmp_path / "out", [_text("a")])
    with pytest.raises(StandardsError, match="already exists"):
        write_package(tmp_path / "out", [_text("b")])
    assert (tmp_path / "out" / "a.txt").exists()
    write_package(tmp_path / "out", [_text("b")], overwrite=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.txt", MANIFEST]


@pytest.mark.parametrize("path", ["/etc/x", "../x", "a/../../x", MANIFEST, ""])
def test_paths_outside_the_package_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(StandardsError, match="must be relative"):
        write_package(tmp_path / "out", [PackageFile(path, lambda p: p.write_text("x"))])
    assert not (tmp_path / "out").exists()


def test_duplicate_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StandardsError, match="same path"):
        write_package(tmp_path / "out", [_text("a"), _text("a")])


def test_verify_finds_changed_missing_and_extra_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_package(out, [_text("a"), _text("b")])
    (out / "a.txt").write_text("changed")
    (out / "b.txt").unlink()
    (out / "extra.txt").write_text("x")
    assert verify_package(out) == [
        "a.txt: SHA-256 differs from the manifest",
        "b.txt: missing",
        "extra.txt: not in the manifest",
    ]
    (out / MANIFEST).write_text("{not json")
    assert verify_package(out) == [f"{MANIFEST}: cannot be read (JSONDecodeError)"]
