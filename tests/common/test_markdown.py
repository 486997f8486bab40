"""The one Markdown-table helper (assets.common.markdown)."""

import inspect
import subprocess
import sys

import polars as pl

from assets.common import markdown, metadata
from assets.common.markdown import markdown_table


def test_table_layout_rounding_and_nulls():
    frame = pl.DataFrame({"name": ["a", None], "value": [1.23456, 2.0], "n": [1, 2]})
    assert markdown_table(frame, float_digits=2, right_align=("value", "n")).splitlines() == [
        "| name | value | n |",
        "| --- | ---: | ---: |",
        "| a | 1.23 | 1 |",
        "|  | 2.0 | 2 |",
    ]


def test_pipes_and_line_breaks_stay_inside_their_cell():
    table = markdown_table(pl.DataFrame({"a|b": ["x|y", "two\nlines"]}))
    assert table.splitlines() == ["| a\\|b |", "| --- |", "| x\\|y |", "| two lines |"]


def test_empty_frame():
    assert markdown_table(pl.DataFrame({"a": []})) == "_(no rows)_"


def test_one_home_without_dagster():
    # metadata's markdown_table only delegates (lazily, so loading the code location needs no polars)
    frame = pl.DataFrame({"a": [1.23456, None], "b": ["x|y", "z"]})
    assert metadata.markdown_table(frame, right_align=["a"]) == markdown.markdown_table(frame, right_align=["a"])
    assert "from assets.common.markdown import markdown_table" in inspect.getsource(metadata.markdown_table)
    code = "import sys, assets.common.markdown; print('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
