"""The shared body reader's announced-length check, as a table (no sockets).

``BodyReader.start`` refuses an answer whose Content-Length passes the cap
before a byte of its body is read. It skips the parse when the value has
fewer characters than the cap has digits; these rows pin that shortcut to
the plain comparison at every boundary.
"""

from __future__ import annotations

import pytest

from ticketpulse._transport._shared import AnswerTooLarge, BodyReader

LIMITS = [1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 64 * 1024 * 1024, 10**18 - 1]


def _values(limit: int) -> list[int]:
    around = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, limit - 1, limit, limit + 1}
    return sorted(v for v in around if v >= 0)


@pytest.mark.parametrize("limit", LIMITS)
def test_an_announced_length_is_refused_exactly_when_it_passes_the_cap(limit: int) -> None:
    for value in _values(limit):
        for text in (str(value), f"{value:0>20}", f" {value}", f"{value}, {value}"):
            reader = BodyReader(None, limit)
            if value > limit:
                with pytest.raises(AnswerTooLarge, match="larger than"):
                    reader.start(200, {"content-length": text})
            else:
                reader.start(200, {"content-length": text})


@pytest.mark.parametrize("limit", [10, 64 * 1024 * 1024])
def test_a_length_past_the_digits_int_accepts_is_still_compared(limit: int) -> None:
    # int() refuses more than 4,300 digits: a ValueError, were it used here.
    with pytest.raises(AnswerTooLarge):
        BodyReader(None, limit).start(200, {"content-length": "9" * 6000})
    BodyReader(None, limit).start(200, {"content-length": "0" * 5999 + "7"})
    with pytest.raises(AnswerTooLarge):
        BodyReader(None, limit).start(200, {"content-length": "9" * 6000 + ", 5"})


@pytest.mark.parametrize("text", ["", "abc", "-5", "1e9", "²"])
def test_a_length_that_is_no_number_is_left_to_the_framing(text: str) -> None:
    BodyReader(None, 10).start(200, {"content-length": text})
