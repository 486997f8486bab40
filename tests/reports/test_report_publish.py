"""Report files are replaced whole and figures a run no longer draws are removed."""

from pathlib import Path

import pytest

from assets.reports.publish import publish_report_files


def test_files_are_replaced_and_stale_figures_removed(tmp_path: Path):
    folder = tmp_path / "reports"
    publish_report_files(folder, {"persona_report.html": b"old", "capture_curve.png": b"1", "elbow.png": b"2"})
    (folder / "history").mkdir()
    (folder / "notes.txt").write_text("an analyst's own file")

    written = publish_report_files(folder, {"persona_report.html": b"new", "elbow.png": b"3"})

    assert written == [folder / "persona_report.html", folder / "elbow.png"]
    assert (folder / "persona_report.html").read_bytes() == b"new"
    assert (folder / "elbow.png").read_bytes() == b"3"
    assert not (folder / "capture_curve.png").exists()  # drawn last run, not this one
    assert (folder / "notes.txt").exists() and (folder / "history").is_dir()  # not the report's
    assert sorted(p.name for p in folder.iterdir()) == ["elbow.png", "history", "notes.txt", "persona_report.html"]


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "reports"
    publish_report_files(folder, {"persona_report.html": b"previous report"})

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("assets.reports.publish.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        publish_report_files(folder, {"persona_report.html": b"half"})
    assert (folder / "persona_report.html").read_bytes() == b"previous report"
    assert [p.name for p in folder.iterdir()] == ["persona_report.html"]  # no partial file left behind


def test_a_path_is_not_a_file_name(tmp_path: Path):
    with pytest.raises(ValueError, match="plain file name"):
        publish_report_files(tmp_path, {"../escape.png": b"x"})
