"""Guards of the Spark ingest that need no Spark: a non-empty file pass 1 read nothing of is refused."""

from types import SimpleNamespace

import pytest

from assets.ingest.source_layouts import SourceFileError
from assets.ingest.spark_ingest import _refuse_unread


def _text(name: str, size: int):
    return SimpleNamespace(file=SimpleNamespace(relative=name, size_bytes=size))


def test_a_non_empty_file_without_lines_is_refused_by_name():
    texts = [_text("readings/a.csv", 120), _text("readings/b.csv", 80)]
    with pytest.raises(SourceFileError, match=r"readings/b\.csv"):
        _refuse_unread(texts, {0: object()})


def test_read_files_and_empty_files_pass():
    _refuse_unread([_text("readings/a.csv", 120), _text("readings/empty.csv", 0)], {0: object()})
