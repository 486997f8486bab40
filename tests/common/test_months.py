"""Month arithmetic (assets.common.months): the one home of stepping months, with the two end
conventions spelled out: ``months_between`` includes its last month, ``months_in`` excludes its end."""

from datetime import date

import pytest

from assets.common.months import add_months, months_between, months_in, next_month

NOV_2012, DEC_2012, JAN_2013, FEB_2013 = date(2012, 11, 1), date(2012, 12, 1), date(2013, 1, 1), date(2013, 2, 1)


@pytest.mark.parametrize(
    ("month", "n", "expected"),
    [
        (NOV_2012, 0, NOV_2012),
        (NOV_2012, 1, DEC_2012),
        (DEC_2012, 1, JAN_2013),  # across the year end
        (JAN_2013, -1, DEC_2012),  # backwards across it
        (JAN_2013, 13, FEB_2013.replace(year=2014)),
        (FEB_2013, -26, DEC_2012.replace(year=2010)),
        (date(2013, 1, 31), 1, FEB_2013),  # any day of a month: the first of the month n on, never Feb 31
    ],
)
def test_add_months(month: date, n: int, expected: date):
    assert add_months(month, n) == expected


def test_next_month_is_one_month_on():
    assert next_month(DEC_2012) == JAN_2013
    assert next_month(date(2012, 2, 29)) == date(2012, 3, 1)
    assert all(next_month(m) == add_months(m, 1) for m in months_between(date(2011, 1, 1), date(2014, 12, 1)))


def test_months_between_includes_both_ends():
    assert months_between(NOV_2012, FEB_2013) == [NOV_2012, DEC_2012, JAN_2013, FEB_2013]
    assert months_between(JAN_2013, JAN_2013) == [JAN_2013]
    assert months_between(FEB_2013, JAN_2013) == []
    assert months_between(date(2012, 11, 15), DEC_2012) == [NOV_2012, DEC_2012]  # from the first's month


def test_months_in_excludes_its_end():
    assert months_in(NOV_2012, FEB_2013) == [NOV_2012, DEC_2012, JAN_2013]
    assert months_in(JAN_2013, JAN_2013) == []
    assert months_in(FEB_2013, JAN_2013) == []
    assert months_in(date(2012, 11, 15), DEC_2012) == [NOV_2012]


def test_the_two_conventions_differ_by_the_end_month_only():
    for first in months_between(date(2011, 11, 1), date(2012, 3, 1)):
        for last in months_between(first, date(2013, 3, 1)):
            assert months_in(first, next_month(last)) == months_between(first, last)
            assert months_in(first, last) == months_between(first, last)[:-1]
