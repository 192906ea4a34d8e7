"""What a column's values look like: codes, timestamps, money, quantities, e-mails, phones, text.

A column is summarised by shares (the part of its non-empty values of each kind) and a few
statistics. Only the most common distinct values are examined, weighted by how often they occur,
so a 20,000-row sample costs a few thousand checks per column. Nothing here keeps or reports a
value: the summaries hold shares and counts only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Profile", "TimestampGuess", "data_kind", "infer_timestamp", "profile"]

_EVAL_DISTINCT = 3000  # distinct values examined per column, the most common first
_VERIFY = 500  # distinct values parsed with strptime to confirm a format

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.(\d*))?|\.(\d+))(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})*,\d{1,4}|[+-]?\d+,\d{1,2}")
_CURRENCY = re.compile(r"[$€£¥]\s?[+-]?\d[\d,]*(?:\.\d+)?|[+-]?\d[\d,]*(?:\.\d+)?\s?[$€£¥]|[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_PHONE = re.compile(r"\+?[\d\s().\-/]{7,24}")
_BOOLEAN_WORDS = frozenset({"true", "false", "t", "f", "yes", "no", "y", "n", "0", "1"})


@dataclass(frozen=True)
class TimestampGuess:
    """How a column's values read as timestamps: the strptime format (None for ISO 8601) and why."""

    format: str | None
    share: float  # of the non-empty values, the part that parses with ``format``
    confidence: float
    reason: str
    alternatives: tuple[str, ...] = ()
    mixed: str | None = None  # set when the column holds several layouts


@dataclass(frozen=True)
class Profile:
    """A column's values in summary: shares of each kind of content, and a few statistics."""

    name: str
    rows: int
    filled: int
    distinct: int
    shares: dict[str, float] = field(default_factory=dict)
    kind: str | None = None  # the logical type a typed format (Parquet) stores
    small_numbers: bool = False  # whole numbers, nearly all below 1,000: counts, not money
    unit_interval: bool = False  # every number within [0, 1], some with decimals: a rate
    timestamp: TimestampGuess | None = None

    def share(self, kind: str) -> float:
        return self.shares.get(kind, 0.0)

    @property
    def fill(self) -> float:
        return self.filled / self.rows if self.rows else 0.0

    @property
    def unique(self) -> bool:
        return self.filled > 0 and self.distinct == self.filled

    @property
    def distinct_ratio(self) -> float:
        return self.distinct / self.filled if self.filled else 0.0


def profile(name: str, values: Iterable[str | None], *, kind: str | None = None) -> Profile:
    """Summarise one column's values (text, as staged)."""
    values = list(values)
    counts = Counter(s for v in values if v is not None and (s := v.strip()))
    filled = sum(counts.values())
    top = counts.most_common(_EVAL_DISTINCT)
    weight = sum(c for _, c in top) or 1
    tally: Counter[str] = Counter()
    numbers: list[tuple[float, int]] = []
    for value, n in top:
        facts, number = _facts(value)
        for f in facts:
            tally[f] += n
        if number is not None:
            numbers.append((number, n))
    shares = {k: v / weight for k, v in tally.items()}
    ts = _timestamp_of(top, kind)
    if ts is not None:
        shares["timestamp"] = ts.share
    if kind in ("integer", "number"):
        shares["number"] = 1.0
    return Profile(
        name=name, rows=len(values), filled=filled, distinct=len(counts), shares=shares, kind=kind,
        small_numbers=_small_numbers(numbers, shares), unit_interval=_unit_interval(numbers, shares),
        timestamp=ts,
    )


def _timestamp_of(top: list[tuple[str, int]], kind: str | None) -> TimestampGuess | None:
    if kind == "timestamp":
        return TimestampGuess(None, 1.0, 0.99, "the file stores the column as timestamps")
    if kind is not None:
        return None  # a typed number is read as a number, whatever its digits look like
    return infer_timestamp(top)


def _facts(value: str) -> tuple[set[str], float | None]:
    """The kinds of content one value shows, and its number if it is one."""
    facts: set[str] = set()
    number = None
    m = _NUMBER.fullmatch(value)
    if m:
        facts.add("number")
        number = float(value)
        places = m.group(1) if m.group(1) is not None else m.group(2)
        if "e" not in value.lower():
            if not (places or "").strip("0"):
                facts.add("integer")
                if places is not None:
                    facts.add("dot_zero")  # a whole number written as a float: 17850.0
            elif len(places) <= 2:
                facts.add("two_decimals")
        if number < 0:
            facts.add("negative")
    elif _DECIMAL_COMMA.fullmatch(value):
        facts.add("decimal_comma")
    elif _CURRENCY.fullmatch(value):
        facts.add("currency")
    if "@" in value and _EMAIL.fullmatch(value):
        facts.add("email")
    if _is_phone(value):
        facts.add("phone")
    if value.lower() in _BOOLEAN_WORDS:
        facts.add("boolean")
    has_space = any(ch.isspace() for ch in value)
    if len(value) <= 40 and not has_space:
        facts.add("token")
    if has_space:
        facts.add("spaces")
        if len(value) >= 40:
            facts.add("long_text")
    if any(ch.isalpha() for ch in value):
        facts.add("letters")
    return facts, number


# An identifier as systems write them: a short letter prefix and at least three digits (C0000001,
# ORD-2024-0001), which a column name hardly ever is.
_ID_LIKE = re.compile(r"[A-Za-z]{0,4}[-_/#]?\d{3,}(?:[-_/]\d+)*")


def data_kind(value: str) -> str | None:
    """What kind of data one text looks like ("an e-mail", "a date", ...), or None for a plain word.

    Used on a file's first line: column names are words, so a name that reads as an e-mail, a
    date, a phone number, a number or an id says that the line holds a record, not a header.
    """
    text = value.strip()
    if not text:
        return None
    if "@" in text and _EMAIL.fullmatch(text):
        return "an e-mail"
    if _layout(text) is not None:
        return "a date"
    if _is_phone(text):
        return "a phone number"
    if _NUMBER.fullmatch(text) or _DECIMAL_COMMA.fullmatch(text) or _CURRENCY.fullmatch(text):
        return "a number"
    if _ID_LIKE.fullmatch(text):
        return "an id"
    return None


def _is_phone(value: str) -> bool:
    if not _PHONE.fullmatch(value) or _NUMERIC_DATE.fullmatch(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15:
        return False
    # Plain digits are as likely an id, unless they start like a dialled number (0 or +).
    return value.startswith(("+", "0", "(")) or any(ch in value for ch in " -.()/")


def _small_numbers(numbers: list[tuple[float, int]], shares: dict[str, float]) -> bool:
    if not numbers or shares.get("integer", 0) < 0.95:
        return False
    total = sum(n for _, n in numbers)
    big = sum(n for x, n in numbers if abs(x) > 1000)
    return big / total <= 0.02


def _unit_interval(numbers: list[tuple[float, int]], shares: dict[str, float]) -> bool:
    if not numbers or shares.get("number", 0) < 0.95:
        return False
    return all(0 <= x <= 1 for x, _ in numbers) and any(0 < x < 1 for x, _ in numbers)


# -- timestamps ----------------------------------------------------------------------------------
_TIME = (r"(?P<tsep>[T ]+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?P<f>\.\d{1,6})?)?"
         r"(?P<ampm>\s*[AaPp][Mm])?")
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
                  r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?")
_COMPACT = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?P<time>\d{6})?")
_NUMERIC_DATE = re.compile(r"(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})(?:" + _TIME + ")?")
_NAMED_DATE = re.compile(r"(?P<a>\d{1,2})(?P<s1>[ \-])(?P<mon>[A-Za-z]{3,9})(?P<s2>[ \-,]+)(?P<c>\d{2,4})(?:" + _TIME + ")?")
_NAMED_FIRST = re.compile(r"(?P<mon>[A-Za-z]{3,9})(?P<s1> )(?P<a>\d{1,2})(?P<s2>,? )(?P<c>\d{4})(?:" + _TIME + ")?")


@dataclass(frozen=True)
class _Layout:
    """The shape of one value: a family of date layouts (one format, up to day/month order) and its time part."""

    family: tuple
    time: str
    first: int = 0  # the first and second numeric fields, for telling day from month
    second: int = 0
    zone: bool = False


def _layout(value: str) -> _Layout | None:
    if (m := _ISO.fullmatch(value)) and 1 <= int(m["m"]) <= 12 and 1 <= int(m["d"]) <= 31:
        return _Layout(("iso",), "", zone=m["zone"] is not None)
    if m := _COMPACT.fullmatch(value):
        return _Layout(("compact", m["time"] is not None), "")
    if m := _NUMERIC_DATE.fullmatch(value):
        a, b, c = m["a"], int(m["b"]), m["c"]
        if len(a) == 4:  # year first: 2010/12/01
            return _Layout(("ymd", m["sep"]), _time_format(m), first=b, second=int(c))
        if len(c) == 3 or int(a) > 31 or b > 31:
            return None
        return _Layout(("dm", m["sep"], "%Y" if len(c) == 4 else "%y"), _time_format(m), first=int(a), second=b)
    for pattern, order in ((_NAMED_DATE, "dmy"), (_NAMED_FIRST, "mdy")):
        if (m := pattern.fullmatch(value)) and _month_format(m["mon"]):
            year = "%Y" if len(m["c"]) == 4 else "%y"
            if order == "dmy":
                date = f"%d{m['s1']}{_month_format(m['mon'])}{m['s2']}{year}"
            else:
                date = f"{_month_format(m['mon'])}{m['s1']}%d{m['s2']}{year}"
            return _Layout(("named", date), _time_format(m))
    return None


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")


def _month_format(word: str) -> str | None:
    low = word.lower()
    if low in _MONTHS:
        return "%B"
    if len(low) == 3 and any(m.startswith(low) for m in _MONTHS):
        return "%b"
    return None


def _time_format(m: re.Match) -> str:
    if m["h"] is None:
        return ""
    hour = "%I" if m["ampm"] else "%H"
    fmt = f"{m['tsep']}{hour}:%M" + (":%S" if m["s"] else "") + (".%f" if m["f"] else "")
    if m["ampm"]:
        fmt += m["ampm"][: len(m["ampm"]) - 2] + "%p"  # keep the space before AM/PM, if any
    return fmt


def infer_timestamp(counts: Iterable[tuple[str, int]]) -> TimestampGuess | None:
    """How ``(value, count)`` pairs read as timestamps, or None when most are not timestamps.

    Day-first and month-first orders are told apart by the values: a first field above 12 can
    only be a day, a second field above 12 only a day too. When no value decides, month-first is
    assumed (dots: day-first) and the guess is marked ambiguous with a low confidence.

    Examples
    --------
    >>> infer_timestamp([("12/1/2010 8:26", 3), ("12/13/2010 9:01", 1)]).format
    '%m/%d/%Y %H:%M'
    >>> infer_timestamp([("25/12/2021", 1), ("3/1/2022", 1)]).format
    '%d/%m/%Y'
    >>> infer_timestamp([("2009-12-01 07:45:00", 2)]).format is None
    True
    """
    counts = [(v, n) for v, n in counts if v]
    total = sum(n for _, n in counts)
    if not total:
        return None
    layouts = [(v, n, _layout(v)) for v, n in counts]
    families: Counter[tuple] = Counter()
    for _, n, lay in layouts:
        if lay is not None:
            families[lay.family] += n
    if not families:
        return None
    family, hits = families.most_common(1)[0]
    # Eight digits are as often an id as a date: ask for nearly all before calling them dates.
    if hits / total < (0.95 if family[0] == "compact" else 0.5):
        return None
    chosen = [(v, n, lay) for v, n, lay in layouts if lay is not None and lay.family == family]
    guess = _decide(family, chosen)
    return _checked(guess, family, counts, families, total)


def _decide(family: tuple, chosen: list[tuple[str, int, _Layout]]) -> TimestampGuess:
    """The format for one family of layouts, with its confidence and reason (before checking)."""
    kind = family[0]
    times: Counter[str] = Counter()
    for _, n, lay in chosen:
        times[lay.time] += n
    time = times.most_common(1)[0][0]
    if kind == "iso":
        zone = sum(n for _, n, lay in chosen if lay.zone)
        reason = "ISO 8601 timestamps, which need no format"
        if zone:
            reason += "; some carry a time-zone offset, which is dropped (the local time is kept)"
        return TimestampGuess(None, 1.0, 0.97, reason)
    if kind == "compact":
        fmt = "%Y%m%d%H%M%S" if family[1] else "%Y%m%d"
        return TimestampGuess(fmt, 1.0, 0.9, "dates written as digits, year first")
    if kind == "named":
        return TimestampGuess(family[1] + time, 1.0, 0.9, "dates with English month names")
    sep = family[1]
    if kind == "ymd":
        day_second = sum(n for _, n, lay in chosen if lay.first > 12)
        date = f"%Y{sep}%d{sep}%m" if day_second else f"%Y{sep}%m{sep}%d"
        return TimestampGuess(date + time, 1.0, 0.9, "dates with the year first")
    return _day_or_month(sep, family[2], time, chosen)


def _day_or_month(sep: str, year: str, time: str, chosen: list[tuple[str, int, _Layout]]) -> TimestampGuess:
    day_first_fmt = f"%d{sep}%m{sep}{year}{time}"
    month_first_fmt = f"%m{sep}%d{sep}{year}{time}"
    day_first = sum(n for _, n, lay in chosen if lay.first > 12)
    month_first = sum(n for _, n, lay in chosen if lay.second > 12)
    if day_first and month_first:
        fmt, other = (day_first_fmt, month_first_fmt) if day_first >= month_first else (month_first_fmt, day_first_fmt)
        return TimestampGuess(fmt, 1.0, 0.3, f"mixed day order: {_values_have(day_first)} a first field above 12 "
                              f"(day first) and {month_first} a second field above 12 (month first)",
                              (other,), mixed="the column mixes day-first and month-first dates")
    if day_first:
        return TimestampGuess(day_first_fmt, 1.0, 0.95,
                              f"{_values_have(day_first)} a first field above 12, so the day comes first")
    if month_first:
        return TimestampGuess(month_first_fmt, 1.0, 0.95,
                              f"{_values_have(month_first)} a second field above 12, so the month comes first")
    if sep == ".":
        return TimestampGuess(day_first_fmt, 1.0, 0.4,
                              "ambiguous: no field is above 12, so day and month cannot be told apart; "
                              f"day first assumed (dotted dates are written day first); use {month_first_fmt!r} "
                              "if the month comes first", (month_first_fmt,))
    return TimestampGuess(month_first_fmt, 1.0, 0.35,
                          "ambiguous: no field is above 12, so day and month cannot be told apart; "
                          f"month first assumed (the US order); use {day_first_fmt!r} if the day comes first",
                          (day_first_fmt,))


def _values_have(n: int) -> str:
    return f"{n:,} value has" if n == 1 else f"{n:,} values have"


def _checked(guess: TimestampGuess, family: tuple, counts: list[tuple[str, int]],
             families: Counter[tuple], total: int) -> TimestampGuess:
    """The guess with its share measured: strptime on the values, as crmine will parse them."""
    parsed = sum(n for v, n in counts[:_VERIFY] if _parses(v, guess.format))
    checked = sum(n for _, n in counts[:_VERIFY])
    share = parsed / checked if checked else 0.0
    reason = f"content: {share:.0%} parse as timestamps" + (f" with {guess.format}" if guess.format else "")
    reason += f"; {guess.reason}"
    mixed = guess.mixed
    others = [(f, n) for f, n in families.items() if f != family]
    if others and sum(n for _, n in others) / total >= 0.02:
        mixed = mixed or (f"mixed formats: {families[family] / total:.0%} of the values share one layout, the "
                          f"rest ({sum(n for _, n in others) / total:.0%}) another; crmine applies one "
                          "format, so the others are quarantined as bad_type")
    elif share < 0.98 and guess.format:
        mixed = mixed or (f"{1 - share:.0%} of the values do not parse with {guess.format} (several time "
                          "layouts?); crmine quarantines them as bad_type")
    confidence = guess.confidence * min(1.0, share / 0.98)
    return TimestampGuess(guess.format, share, round(confidence, 2), reason, guess.alternatives, mixed)


def _parses(value: str, fmt: str | None) -> bool:
    if fmt is None:
        lay = _layout(value)
        return lay is not None and lay.family == ("iso",)
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True
