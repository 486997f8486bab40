"""SQL files and identifier quoting (assets.common.sql)."""

import duckdb
import pytest

from assets.common.sql import load_sql, qualified_name, quote_identifier


def test_quoted_identifier_survives_quotes_and_spaces():
    con = duckdb.connect()
    table = quote_identifier('we"ird name')
    con.execute(f"CREATE TABLE {table} (x INTEGER)")
    con.execute(f"INSERT INTO {table} VALUES (1)")
    assert con.execute('SELECT x FROM "we""ird name"').fetchall() == [(1,)]


def test_qualified_name_quotes_each_part():
    assert qualified_name("clean.clean_readings") == '"clean"."clean_readings"'


@pytest.mark.parametrize("bad", ["", "a\x00b"])
def test_invalid_identifiers_are_refused(bad):
    with pytest.raises(ValueError):
        quote_identifier(bad)


def test_missing_sql_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.sql"):
        load_sql(str(tmp_path / "module.py"), "nope")
