"""Time expressions in a question, resolved against the journal's own dates.

People ask their journal things like "how did I handle it last winter?" or "between June
and August, what happened with Leah?". The period bounds retrieval, so it has to mean
what the writer meant *from inside their journal*: a journal imported months after its
last entry still says "last winter" about the winter before that entry. Every relative
expression is therefore resolved against the **anchor**, the date of the journal's last
entry (``None`` falls back to today), never against the clock.

``dateparser`` does what it is good at: the English month spellings (the month words
matched here are read from its own English locale data), explicit dates ("March 3rd
2024", "3 March", "2024-03-03"), and relative phrases ("last year", "this month", "two
weeks ago"); it is configured with the anchor as ``RELATIVE_BASE`` and
``PREFER_DATES_FROM="past"``. The small grammar here adds what it has no notion of:
seasons, halves and thirds, "since", ranges, "before last" and rolling windows. It is
only ever called on a candidate span, never on the whole question, and its answers are
cached; a question with no month, season, time unit or digit in it costs one regex
search.

Rules (Y = the anchor's year; every period is a closed range of whole days):

* **Seasons** are meteorological: spring Mar–May, summer Jun–Aug, autumn/fall Sep–Nov,
  winter Dec–Feb. A winter belongs to the year of its December: "winter 2023" (also
  "winter 2023/24", "the winter of last year" when Y is 2024) is 2023-12-01..2024-02-29.
  In a journal written in the southern hemisphere (``southern_hemisphere``: its own
  season words, read against the months they were written in, a season starting or
  ending included; north without such words) every season moves six
  months: winter is Jun–Aug, summer Dec–Feb and belongs to the year of its December.
* **"last <season>"** (also "last <month>") is the most recent one that had *ended*
  before the anchor: with the anchor 2024-11-24 "last winter" is Dec 2023–Feb 2024 and
  "last autumn" is Sep–Nov 2023 (autumn 2024 has not ended); with the anchor 2024-09-05
  "last summer" is Jun–Aug 2024. **"the <season> before last"** is the one before the
  most recent one that has *started* (asked in a winter, the winter before this one).
* **A bare or "this" season or month** ("in March", "over the summer", "this spring") is
  the most recent one that *started* on or before the anchor, so it may contain the
  anchor. It keeps its calendar bounds (nothing in the journal lies after the anchor,
  so the part after it selects nothing).
* **With a year** ("March 2024", "summer 2023", "in spring last year", "the autumn of
  last year", "June this year") it is that year's; "last year" is Y-1, "this year" Y,
  "the year before last" Y-2.
* **Years**: "in 2023", "during 2023", "since 2023", "the year 2023". "this year" is Y,
  "last year" Y-1. "this/last month" and "this/last week" (Monday–Sunday) likewise.
* **Halves and thirds**: "the first/second half of" a year is Jan–Jun / Jul–Dec ("of the
  year" and "of this year" mean Y). "early/mid/late" a year is Jan–Apr / May–Aug /
  Sep–Dec, of a season its first/middle/last month, of a month days 1–10 / 11–20 / 21–end.
  "the start/beginning of" and "the end of" are the first/last month of a year or season
  (days 1–10 / 21–end of a month); "the middle of" is "mid".
* **Slices of a year**: "the first N months/weeks of" a year (2022, the year, this or
  last year) run from 1 January ("the first three months of 2022" is Jan–Mar 2022);
  "the first/second/third/fourth/last quarter of" a year is its three months.
* **Explicit days** ("on 3 March", "March 3rd, 2024", "the 3rd of March", "2024-03-03")
  are that day; without a year, the most recent such day on or before the anchor (so
  "29 February" is the last leap day before it).
* **"since X"** runs from the start of X to the anchor ("since September" with the
  anchor 2024-11-24 is 2024-09-01..2024-11-24). "from X on/onwards" is the same.
  "since New Year" starts on 1 January of the anchor's year, "since Christmas" on the
  last 25 December on or before the anchor; an event told by its time
  ("since the proposal in January", "since my birthday in May") starts with that time.
* **Ranges** "between X and Y", "from X to/until/through Y", "in X and/or Y": X's start
  to Y's end. A year on one end applies to the other ("between May and August last year"
  is May–Aug of Y-1; "between November and February 2024" starts in Nov 2023). Without
  any year it is the most recent such range that starts on or before the anchor
  ("between june and august" with the anchor 2024-11-24 is 2024-06-01..2024-08-31;
  "from November to February" with the anchor 2024-01-10 is Nov 2023–Feb 2024).
  "... and now/today" ends at the anchor.
* **Rolling windows need a count**: "over the last three months", "the past 2 weeks",
  "the last few months" ("few" = 3, "a couple of" = 2) run from the same day N units
  before the anchor to the anchor. "the past year", "this past year", "the last month"
  (no count) are *not* periods: a rolling year covers nearly any journal, and a question
  put that way ("how have things changed this past year?") asks about change, which
  needs the earlier entries too.
* **"N units ago"**: "a year ago" / "two years ago" is the three calendar months centred
  on the anchor's month that many years earlier (anchor 2024-10-20: Sep–Nov 2023);
  "two months ago" that calendar month; "three weeks ago" that Monday–Sunday week;
  "five days ago" that day.
* **Names and false friends.** A month or season word standing alone counts as time only
  after a time preposition (in, during, throughout, through, over, since, or as an end
  of a between/from range), or when it carries its own cue: "last"/"this", a year, a day
  number, "before last", early/mid/late, "the first half of". So "Tell me about June and
  me", "What did Summer say?", "when I fall apart", "spring it on him", "may I ask" and
  "March into his office" are not periods, whether capitalised or not (some writers
  never capitalise names). A word followed by "'s" ("April's flat") is always a name.
  "this may ..." is the modal, and "this fall/spring/march" followed by a particle
  ("this fall apart") is a verb; "the fall" is autumn only right after in/during/over/
  through(out) ("since the fall" is a fall). After a time preposition a capitalised
  month is a month ("in June", "since April" are months even if June and April are
  friends). "between"/"from" count only when a whole range (or "from X onwards")
  follows, so "between June and me" is not a period. A lone year ("2023") likewise
  needs a preposition ("in 2023") or a qualifier ("early 2023", "the year 2023").
  Weekdays ("on his Sunday"), ordinals ("second-guess", "the first time"), ages ("when I
  was 12") and open-ended "before/after/until X" are never read as periods.
* **One period per question**: the first expression found, reading left to right.

``resolve_period`` only reads the question; whether a period falls inside the journal's
span (someone may ask about "1998" in a journal begun in 2023) is for the caller to judge.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from dateparser.date import DateDataParser
from dateparser.languages.loader import default_loader

from service.insight.folding import fold, may_contain, word_start

__all__ = ["Period", "resolve_period", "strip_period"]


@dataclass(frozen=True)
class Period:
    since: dt.date
    until: dt.date
    text: str  # the time expression as it appears in the question
    start: int  # its character offsets in the question
    end: int


_Span = tuple[dt.date, dt.date]


@dataclass(frozen=True)
class _Point:
    """One end of a period: resolved (``span``) or floating (a month, season or day
    without a year, placed by its context)."""

    span: _Span | None = None
    kind: str = ""  # floating: "month" | "season" | "day"
    key: tuple[int, ...] = ()  # (month,) | (first month of the season,) | (month, day)
    bare: bool = False  # a lone month/season/year word: needs a time preposition
    weak: bool = False  # "the fall": a season only right after in/during/over/through
    part: str | None = None  # early | mid | late | first | second | start | end
    # a holiday: one end of a range ("between September and Christmas"), never a period
    # of its own ("at Christmas" means the days around it, not the 25th alone)
    end_only: bool = False


# --- vocabulary -----------------------------------------------------------------------

_MONTH_KEYS = (  # the keys of dateparser's locale data (calendar.month_name follows the locale)
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def _month_words() -> tuple[list[str], list[str]]:
    """English month spellings from dateparser's locale data: (all, abbreviations)."""
    info = default_loader.get_locale("en").info
    words = {w.lower() for key in _MONTH_KEYS for w in info[key] if len(w) >= 3}
    words.update(_MONTH_KEYS)
    abbreviations = sorted(w for w in words if w not in _MONTH_KEYS)
    return sorted(words, key=len, reverse=True), abbreviations


_MONTHS, _MONTH_ABBREVIATIONS = _month_words()
_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
# Set by resolve_period for one call: seasons of the southern hemisphere.
_SOUTH: ContextVar[bool] = ContextVar("southern_hemisphere", default=False)
_VERBISH = {"may", "march", "fall", "spring"}
_NUMBER = (
    r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few)"
)
_UNIT = r"(?:years?|months?|weeks?|days?)"
_NOT_NAME = r"\b(?!['’]s\b)(?![-‐]\w)"  # not "April's", not "spring-cleaning"
_MON = (
    r"(?P<mon>(?:"
    + "|".join(_MONTHS)
    + r")"
    + _NOT_NAME
    + r"(?:(?:"
    + "|".join(f"(?<={w})" for w in _MONTH_ABBREVIATIONS)
    + r")\.(?=\s+\d))?)"
)
_SEA = r"(?P<sea>spring|summer|autumn|fall|winter)" + _NOT_NAME
_YEAR = r"(?:19|20)\d\d(?![\d:])"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?![\d:.,]\d)(?!\d)"
_YREF = (
    r"(?:(?P<y>" + _YEAR + r")(?:\s*[/–-]\s*(?:19|20)?\d\d(?!\d))?"
    r"|(?P<rel>last\s+year|this\s+year|(?:the\s+)?year\s+before\s+last)\b)"
)
_PARTICLE = re.compile(
    r"\s+(?:apart|down|over|on|off|out|into|up|back|behind|short|through|asleep|ill|for"
    r"|be|been|have|not|to)\b",
    re.I,
)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


# --- dateparser -----------------------------------------------------------------------


@lru_cache(maxsize=64)
def _parser(anchor: dt.date) -> DateDataParser:
    return DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": dt.datetime.combine(anchor, dt.time()),
            "PREFER_DATES_FROM": "past",
        },
    )


@lru_cache(maxsize=4096)
def _dp(text: str, anchor: dt.date) -> tuple[dt.date, str] | None:
    """dateparser's reading of one candidate span: (date, period) or None."""
    data = _parser(anchor).get_date_data(text)
    if data.date_obj is None:
        return None
    return data.date_obj.date(), str(data.period or "day")


# --- calendar helpers -----------------------------------------------------------------


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def _months(first: tuple[int, int], last: tuple[int, int]) -> _Span:
    return dt.date(first[0], first[1], 1), _month_end(*last)


def _unit_span(day: dt.date, unit: str) -> _Span:
    """The calendar year/month/week (Monday–Sunday)/day containing ``day``."""
    if unit == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    if unit == "month":
        return _months((day.year, day.month), (day.year, day.month))
    if unit == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    return day, day


def _occurrence(kind: str, key: tuple[int, ...], year: int) -> _Span | None:
    if kind == "month":
        return _months((year, key[0]), (year, key[0]))
    if kind == "season":
        return _months((year, key[0]), _add_months(year, key[0], 2))
    try:
        day = dt.date(year, key[0], key[1])
    except ValueError:  # 29 February in a common year
        return None
    return day, day


def _latest(kind: str, key: tuple[int, ...], ok: Callable[[_Span], bool], ref: int) -> _Span:
    for year in range(ref + 1, ref - 9, -1):
        span = _occurrence(kind, key, year)
        if span is not None and ok(span):
            return span
    raise ValueError("no occurrence")  # pragma: no cover - a leap day recurs within 8 years


def _earliest(kind: str, key: tuple[int, ...], not_before: dt.date) -> _Span:
    for year in range(not_before.year - 1, not_before.year + 9):
        span = _occurrence(kind, key, year)
        if span is not None and span[0] >= not_before:
            return span
    raise ValueError("no occurrence")  # pragma: no cover


def _apply_part(span: _Span, part: str | None) -> _Span | None:
    if part is None:
        return span
    since, until = span
    aligned = since.day == 1 and until == _month_end(until.year, until.month)
    if not aligned:
        return None
    n = (until.year - since.year) * 12 + until.month - since.month + 1
    first = (since.year, since.month)
    if n == 1:
        y, m = first
        last_day = until.day
        days = {
            "early": (1, 10),
            "start": (1, 10),
            "mid": (11, 20),
            "late": (21, last_day),
            "end": (21, last_day),
            "first": (1, 15),
            "second": (16, last_day),
        }[part]
        return dt.date(y, m, days[0]), dt.date(y, m, days[1])
    third = n // 3
    months = {
        "early": (0, third - 1),
        "mid": (third, n - third - 1),
        "late": (n - third, n - 1),
        "start": (0, 0),
        "end": (n - 1, n - 1),
        "first": (0, n // 2 - 1),
        "second": (n // 2, n - 1),
    }[part]
    return _months(_add_months(*first, months[0]), _add_months(*first, months[1]))


def _finish(point: _Point, base: _Span) -> _Span | None:
    return _apply_part(base, point.part)


def _recent(point: _Point, anchor: dt.date) -> _Span | None:
    """A point on its own: floating ones are the most recent that started by the anchor."""
    if point.span is not None:
        return _finish(point, point.span)
    base = _latest(point.kind, point.key, lambda s: s[0] <= anchor, anchor.year)
    return _finish(point, base)


# --- the point grammar ----------------------------------------------------------------

_Builder = Callable[[re.Match[str], dt.date], _Point | None]
_FORMS: list[tuple[re.Pattern[str], _Builder]] = []


def _form(pattern: str) -> Callable[[_Builder], _Builder]:
    def register(build: _Builder) -> _Builder:
        _FORMS.append((_rx(pattern), build))
        return build

    return register


def _floating(match: re.Match[str]) -> tuple[str, tuple[int, ...]] | None:
    """(kind, key) of the month or season word in ``match``."""
    season = match.groupdict().get("sea")
    if season:
        start = _SEASON_START[season.lower()]
        if _SOUTH.get():
            start = (start + 5) % 12 + 1
        return "season", (start,)
    month = match.group("mon")
    # Only the month number is wanted here (the year is placed by the grammar), so one
    # fixed base keeps the cache to a single entry per spelling.
    parsed = _dp(month.rstrip(".").lower(), dt.date(2000, 12, 31))
    if parsed is None or parsed[1] != "month":
        return None
    return "month", (parsed[0].month,)


def _year_of(match: re.Match[str], anchor: dt.date) -> int:
    if match.group("y"):
        return int(match.group("y"))
    rel = " ".join(match.group("rel").lower().split())
    return anchor.year - {"last year": 1, "this year": 0}.get(rel, 2)


def _day_point(match: re.Match[str], anchor: dt.date) -> _Point | None:
    parsed = _dp(" ".join(match.group(0).split()), anchor)
    if parsed is None or parsed[1] != "day":
        return None
    day = parsed[0]
    if match.groupdict().get("y") or match.groupdict().get("iso"):
        return _Point(span=(day, day))
    return _Point(kind="day", key=(day.month, day.day))


_form(r"(?P<iso>\d{4}-\d{2}-\d{2})\b")(_day_point)
_form(r"(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MON + r"(?:,?\s+(?P<y>" + _YEAR + r"))?")(
    _day_point
)
_form(_MON + r"\s+(?:the\s+)?" + _DAY + r"(?:,?\s+(?P<y>" + _YEAR + r"))?")(_day_point)


# Fixed-date holidays as days ("between September and Christmas 2023", "from Christmas
# Eve to New Year's Day"): Christmas Day is 25 December, New Year's Day 1 January, each
# eve the day before. Holidays that move (Easter, Thanksgiving, which also differs between
# countries) are not read.
_HOLIDAYS = {"christmas eve": (12, 24), "christmas": (12, 25), "xmas": (12, 25),
             "new year's eve": (12, 31), "new year's day": (1, 1), "new year": (1, 1)}  # fmt: skip


@_form(
    r"(?P<h>christmas\s+eve|christmas(?:\s+day)?|xmas|new\s+year(?:'s|’s)?\s+(?:eve|day))"
    r"(?:,?\s+(?P<y>" + _YEAR + r"))?\b"
)
def _holiday(match: re.Match[str], anchor: dt.date) -> _Point | None:
    words = " ".join(match.group("h").lower().replace("’", "'").split())
    month, day = _HOLIDAYS.get(words.removesuffix(" day"), _HOLIDAYS.get(words, (0, 0)))
    if not month:
        return None
    if match.group("y"):
        date = dt.date(int(match.group("y")), month, day)
        return _Point(span=(date, date), end_only=True)
    return _Point(kind="day", key=(month, day), end_only=True)


@_form(r"(?P<q>last|this)\s+(?P<u>year|month|week)\b")
def _relative_unit(match: re.Match[str], anchor: dt.date) -> _Point | None:
    parsed = _dp(" ".join(match.group(0).lower().split()), anchor)
    if parsed is None:
        return None
    return _Point(span=_unit_span(parsed[0], match.group("u").lower()))


@_form(r"(?:the\s+)?year\s+before\s+last\b")
def _year_before_last(match: re.Match[str], anchor: dt.date) -> _Point | None:
    parsed = _dp("2 years ago", anchor)
    return None if parsed is None else _Point(span=_unit_span(parsed[0], "year"))


def _count(text: str) -> str:
    text = " ".join(text.lower().split())
    text = re.sub(r"^(?:a\s+)?couple(?:\s+of)?$", "2", text)
    return re.sub(r"^(?:a\s+)?few$", "3", text)


@_form(r"(?P<n>" + _NUMBER + r")\s+(?P<u>" + _UNIT + r")\s+ago\b")
def _ago(match: re.Match[str], anchor: dt.date) -> _Point | None:
    parsed = _dp(f"{_count(match.group('n'))} {match.group('u').lower()} ago", anchor)
    if parsed is None:
        return None
    day, unit = parsed
    if unit == "year":
        return _Point(
            span=_months(_add_months(day.year, day.month, -1), _add_months(day.year, day.month, 1))
        )
    return _Point(span=_unit_span(day, unit))


@_form(r"(?P<q>last|this)\s+(?:" + _SEA + "|" + _MON + ")")
def _qualified(match: re.Match[str], anchor: dt.date) -> _Point | None:
    word = (match.group("sea") or match.group("mon")).lower()
    this = match.group("q").lower() == "this"
    if this and (
        word == "may" or (word in _VERBISH and _PARTICLE.match(match.string, match.end()))
    ):
        return None  # "this may sound silly", "this fall apart"
    floating = _floating(match)
    if floating is None:
        return None
    kind, key = floating
    if this:
        return _Point(kind=kind, key=key)
    return _Point(span=_latest(kind, key, lambda s: s[1] < anchor, anchor.year))


@_form(r"(?:the\s+)?(?:" + _SEA + "|" + _MON + r")\s+before\s+last\b")
def _before_last(match: re.Match[str], anchor: dt.date) -> _Point | None:
    floating = _floating(match)
    if floating is None:
        return None
    kind, key = floating
    # Counted from the most recent one that has *started*: asked in late August, "the
    # winter before last" skips the winter now ending (two writers, ke and su, meant that).
    last = _latest(kind, key, lambda s: s[0] <= anchor, anchor.year)
    return _Point(span=_latest(kind, key, lambda s: s[1] < last[0], anchor.year))


@_form(r"(?:the\s+)?(?:" + _SEA + "|" + _MON + r"),?\s+(?:of\s+)?" + _YREF)
def _with_year(match: re.Match[str], anchor: dt.date) -> _Point | None:
    floating = _floating(match)
    if floating is None:
        return None
    span = _occurrence(*floating, _year_of(match, anchor))
    return None if span is None else _Point(span=span)


@_form(r"(?:the\s+year\s+)?(?P<y>" + _YEAR + r")\b")
def _year(match: re.Match[str], anchor: dt.date) -> _Point | None:
    year = int(match.group("y"))
    bare = not match.group(0).lower().startswith("the")
    return _Point(span=(dt.date(year, 1, 1), dt.date(year, 12, 31)), bare=bare)


@_form(r"(?:(?:the\s+)?" + _SEA + "|" + _MON + ")")
def _bare(match: re.Match[str], anchor: dt.date) -> _Point | None:
    floating = _floating(match)
    if floating is None:
        return None
    weak = match.group(0).lower().startswith("the") and match.group("sea").lower() == "fall"
    return _Point(kind=floating[0], key=floating[1], bare=True, weak=weak)


_THE_YEAR = _rx(r"the\s+year\b")
_PART = _rx(
    r"(?:(?P<eml>early|mid|late)(?:\s*-\s*|\s+)"
    r"(?:in\s+(?=the\s+year\b|(?:19|20)\d\d|last\s+year|this\s+year))?"
    r"|(?:the\s+)?(?P<half>first|second|1st|2nd|latter)\s+half\s+of\s+"
    r"|(?:the\s+)?(?P<edge>start|beginning|middle|end)\s+of\s+)"
)
_PART_NAMES = {
    "early": "early",
    "mid": "mid",
    "late": "late",
    "first": "first",
    "1st": "first",
    "second": "second",
    "2nd": "second",
    "latter": "second",
    "start": "start",
    "beginning": "start",
    "middle": "mid",
    "end": "end",
}


def _base(text: str, pos: int, anchor: dt.date) -> tuple[_Point, int] | None:
    best: tuple[_Point, int] | None = None
    for pattern, build in _FORMS:
        match = pattern.match(text, pos)
        if match is None or (best is not None and match.end() <= best[1]):
            continue
        point = build(match, anchor)
        if point is not None:
            best = point, match.end()
    return best


def _point(text: str, pos: int, anchor: dt.date) -> tuple[_Point, int] | None:
    part = _PART.match(text, pos)
    if part is not None:
        word = (part.group("eml") or part.group("half") or part.group("edge")).lower()
        inner = _base(text, part.end(), anchor)
        if inner is None:
            the_year = _THE_YEAR.match(text, part.end())
            if the_year is None:
                return None
            year = (dt.date(anchor.year, 1, 1), dt.date(anchor.year, 12, 31))
            inner = _Point(span=year), the_year.end()
        point, end = inner
        if point.part is not None:
            return None
        named = _PART_NAMES[word]
        return _Point(span=point.span, kind=point.kind, key=point.key, part=named), end
    return _base(text, pos, anchor)


# --- the question grammar -------------------------------------------------------------

_HINT = _rx(
    r"\b(?:" + "|".join(_MONTHS) + r"|spring|summer|autumn|fall|winter|years?|months?"
    r"|weeks?|christmas|xmas)\b|\d"
)
_WORD = re.compile(r"\b\w")
_VETO = _rx(r"(?:the|this)\s+(?:last|past)\s+(?:year|month|week|day)\b")
_RANGE_HEAD = _rx(r"(?:between|from)\s+")
_RANGE_CUE = _rx(r"(?:in|during|throughout|over)\s+")
_CONNECTOR = _rx(r"\s*(?:-|–|—|\b(?:and|to|till|until|through|thru|or)\b)\s*")
_NOW = _rx(r"(?:now|today)\b")
_ONWARDS = _rx(r"\s+(?:onwards?\b|on\b(?=\s*(?:[,.;:!?]|$)))")
_SINCE = _rx(r"(?:ever\s+)?since\s+")
# "since New Year", "since the new year", "since New Year's Day": from 1 January.
_NEW_YEAR = _rx(r"(?:the\s+)?new\s+year(?!(?:'s|’s)?\s+eve\b)(?:'s|’s)?(?:\s+day)?\b")
# "since Christmas", "since Christmas Day", "since xmas": from the last 25 December.
_CHRISTMAS = _rx(r"(?:christmas|xmas)(?:\s+day)?\b")
# "since the proposal in January", "since my birthday in May": the event is told by when.
# "since the move in March", and a clause: "since I asked him in April" (from then on).
_SINCE_EVENT = _rx(
    r"(?:the|my|our|his|her|their|that|i|we|he|she|they)\s+(?:[\w'’-]+\s+){1,3}?"
    r"(?:back\s+)?(?:in|on)\s+"
)
_FROM = _rx(r"from\s+")
_WINDOW = _rx(
    r"(?:(?:over|in|during|for|within|across)\s+)?(?:the\s+)?(?:last|past)\s+"
    r"(?P<n>" + _NUMBER + r")\s+(?P<u>" + _UNIT + r")\b"
)
_CUE = _rx(r"(?:in|during|throughout|through|over|(?P<on>on))\s+")
_OF_YEAR = _rx(r"\s+of\s+(?P<y>(?:19|20)\d\d)(?![\d:])")


def _range(p1: _Point, p2: _Point, anchor: dt.date) -> _Span | None:
    if p1.span is None and p2.span is None:
        b1 = _latest(p1.kind, p1.key, lambda s: s[0] <= anchor, anchor.year)
        b2 = _earliest(p2.kind, p2.key, b1[0])
    elif p1.span is None:
        assert p2.span is not None
        b2 = p2.span
        b1 = _latest(p1.kind, p1.key, lambda s: s[0] <= b2[0], b2[0].year)
    elif p2.span is None:
        b1 = p1.span
        b2 = _earliest(p2.kind, p2.key, b1[0])
    else:
        b1, b2 = p1.span, p2.span
    first, last = _finish(p1, b1), _finish(p2, b2)
    if first is None or last is None or last[1] < first[0]:
        return None
    return first[0], last[1]


def _range_at(
    text: str, pos: int, anchor: dt.date, head: re.Pattern[str] | None
) -> tuple[_Span, int] | None:
    """``head`` X ``connector`` Y. Without a head ("September to November 2021") the
    right end must carry its year or day: a bare "May to June" could be anything."""
    opening = head.match(text, pos) if head is not None else None
    if head is not None and opening is None:
        return None
    left = _point(text, opening.end() if opening is not None else pos, anchor)
    if left is None or left[0].weak:
        return None
    connector = _CONNECTOR.match(text, left[1])
    if connector is None:
        return None
    now = _NOW.match(text, connector.end())
    if now is not None:
        first = _recent(left[0], anchor)
        if first is None or first[0] > anchor:
            return None
        return (first[0], anchor), now.end()
    right = _point(text, connector.end(), anchor)
    if right is None or right[0].weak or (head is None and right[0].bare):
        return None
    span = _range(left[0], right[0], anchor)
    return None if span is None else (span, right[1])


def _since_at(text: str, pos: int, anchor: dt.date) -> tuple[_Span, int] | None:
    since = _SINCE.match(text, pos)
    start = _FROM.match(text, pos) if since is None else since
    if start is None:
        return None
    if since is not None:
        new_year = _NEW_YEAR.match(text, start.end())
        if new_year is not None:
            first = dt.date(anchor.year, 1, 1)
            return (first, anchor), new_year.end()
        christmas = _CHRISTMAS.match(text, start.end())
        if christmas is not None:
            # the last Christmas Day on or before the anchor
            year = anchor.year if anchor >= dt.date(anchor.year, 12, 25) else anchor.year - 1
            return (dt.date(year, 12, 25), anchor), christmas.end()
    found = _point(text, start.end(), anchor)
    if found is None and since is not None:
        event = _SINCE_EVENT.match(text, start.end())
        found = None if event is None else _point(text, event.end(), anchor)
    if found is None:
        return None
    end = found[1]
    if since is None:  # "from X" is a "since" only with "on"/"onwards"
        onwards = _ONWARDS.match(text, end)
        if onwards is None:
            return None
        end = onwards.end()
    if found[0].weak:
        return None
    span = _recent(found[0], anchor)
    if span is None or span[0] > anchor:
        return None
    return (span[0], anchor), end


def _window_at(text: str, pos: int, anchor: dt.date) -> tuple[_Span, int] | None:
    match = _WINDOW.match(text, pos)
    if match is None:
        return None
    unit = match.group("u").lower()
    of_year = _OF_YEAR.match(text, match.end())
    if of_year is not None and unit.startswith(("month", "week")):
        # "the last three months of 2023": the end of that year, not a rolling window
        year = int(of_year.group("y"))
        parsed = _dp(f"{_count(match.group('n'))} {unit} ago", dt.date(year, 12, 31))
        if parsed is None:
            return None
        return (parsed[0] + dt.timedelta(days=1), dt.date(year, 12, 31)), of_year.end()
    parsed = _dp(f"{_count(match.group('n'))} {unit} ago", anchor)
    if parsed is None:
        return None
    return (parsed[0], anchor), match.end()


def _cued_at(text: str, pos: int, anchor: dt.date) -> tuple[_Span, int] | None:
    cue = _CUE.match(text, pos)
    start = pos if cue is None else cue.end()
    found = _point(text, start, anchor)
    if found is None or (cue is None and found[0].bare) or found[0].end_only:
        return None
    if found[0].weak and (cue is None or cue.group("on")):
        return None
    span = _recent(found[0], anchor)
    if span is None or (cue is not None and cue.group("on") and span[0] != span[1]):
        return None  # "on" goes with a day only
    return span, found[1]


_OPENING = _rx(
    r"(?:(?:over|in|during|for|within|across)\s+)?(?:the\s+)?first\s+"
    r"(?P<n>" + _NUMBER + r")\s+(?P<u>months?|weeks?)\b"
)
_QUARTER = _rx(
    r"(?:(?:over|in|during|for|within|across)\s+)?(?:the\s+)?"
    r"(?P<q>first|second|third|fourth|last|final|1st|2nd|3rd|4th)\s+quarter\b"
)
_QUARTER_NUMBERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "one two three four five six seven eight nine ten eleven twelve".split(), start=1
    )
} | {"a": 1, "an": 1}
_OF_NAMED_YEAR = _rx(r"\s+of\s+(?:(?P<this>the|this)|(?P<last>last))\s+year\b")


def _of_year_at(text: str, pos: int, anchor: dt.date) -> tuple[int, int] | None:
    """The year after "of" ("of 2022", "of the year", "of last year") and where it ends."""
    digits = _OF_YEAR.match(text, pos)
    if digits is not None:
        return int(digits.group("y")), digits.end()
    named = _OF_NAMED_YEAR.match(text, pos)
    if named is not None:
        return anchor.year - (1 if named.group("last") else 0), named.end()
    return None


def _year_slice_at(text: str, pos: int, anchor: dt.date) -> tuple[_Span, int] | None:
    """ "the first three months of 2022", "the first 6 weeks of the year", "the second
    quarter of last year": a slice of one calendar year, from its start or by quarter."""
    opening = _OPENING.match(text, pos)
    if opening is not None:
        year = _of_year_at(text, opening.end(), anchor)
        if year is None:
            return None
        word = _count(opening.group("n"))
        n = int(word) if word.isdigit() else _WORD_NUMBERS.get(word, 0)
        if not 1 <= n <= (12 if opening.group("u").lower().startswith("month") else 52):
            return None
        start = dt.date(year[0], 1, 1)
        if opening.group("u").lower().startswith("month"):
            return (start, _month_end(year[0], n)), year[1]
        return (start, start + dt.timedelta(days=7 * n - 1)), year[1]
    quarter = _QUARTER.match(text, pos)
    if quarter is not None:
        year = _of_year_at(text, quarter.end(), anchor)
        if year is None:
            return None
        q = _QUARTER_NUMBERS.get(quarter.group("q").lower(), 4)
        return (dt.date(year[0], 3 * q - 2, 1), _month_end(year[0], 3 * q)), year[1]
    return None


def _parse_at(text: str, pos: int, anchor: dt.date) -> tuple[_Span, int] | None:
    return (
        _range_at(text, pos, anchor, _RANGE_HEAD)
        or _since_at(text, pos, anchor)
        or _year_slice_at(text, pos, anchor)
        or _window_at(text, pos, anchor)
        or _range_at(text, pos, anchor, _RANGE_CUE)
        or _range_at(text, pos, anchor, None)
        or _cued_at(text, pos, anchor)
    )


def resolve_period(
    question: str,
    anchor: dt.date | None,
    *,
    southern: bool = False,
    journal: Dated | None = None,
) -> Period | None:
    """The period the question is bounded to, resolved against ``anchor`` (the journal's
    last entry date; None means today), or None when it names no period. ``southern``:
    seasons of the southern hemisphere (see ``southern_hemisphere``). ``journal``: the
    dated entries, for a period that starts at an event they tell ("since my birthday",
    ``event_period``), tried when no date expression is found.

    See the module docstring for every rule (notably "last <season>": the most recent
    one that ended before the anchor; and a lone month or season word counting as time
    only after a time preposition).
    """
    if isinstance(anchor, dt.datetime):
        anchor = anchor.date()
    anchor = anchor or dt.date.today()
    found = None
    if _HINT.search(question):
        token = _SOUTH.set(southern)
        try:
            found = _resolve(question, anchor)
        finally:
            _SOUTH.reset(token)
    if found is None and journal is not None:
        found = event_period(question, journal, anchor)
    return _spelled_out(question, found) if found is not None else None


_MONTH_NUMBER = {
    w: i + 1 for i, key in enumerate(_MONTH_KEYS) for w in _MONTHS if key.startswith(w[:3])
}
_APPOSITIVE = re.compile(
    r"\s*[,(–—-]\s*(?:from\s+|i\.?e\.?\s+|so\s+)?(?P<a>[a-z]+)\s+(?:to|through|thru|till|until|-|–)"
    r"\s+(?P<b>[a-z]+)\b\)?",
    re.IGNORECASE,
)


def _spelled_out(question: str, found: Period) -> Period:
    """A season or year followed by the months it means ("the fall of 2022, September to
    December"; "last summer (June to August)"): the writer's own months win, in the
    period's year. The months must overlap the period the words named; otherwise the
    months are some other part of the question and the period stays."""
    m = _APPOSITIVE.match(question, found.end)
    if m is None:
        return found
    first, last = (_MONTH_NUMBER.get(m.group(k).lower()) for k in ("a", "b"))
    if first is None or last is None:
        return found
    start_year = found.since.year
    if first < found.since.month - 6:
        start_year += 1  # "winter 2022, January to March": the months after December
    since = dt.date(start_year, first, 1)
    end_year = start_year if last >= first else start_year + 1
    until = dt.date(end_year, last, calendar.monthrange(end_year, last)[1])
    if until < found.since or since > found.until:
        return found
    return Period(since, until, question[found.start : m.end()], found.start, m.end())


def _resolve(question: str, anchor: dt.date) -> Period | None:
    skip_to = 0
    for word in _WORD.finditer(question):
        pos = word.start()
        if pos < skip_to:
            continue
        veto = _VETO.match(question, pos)
        if veto is not None:
            skip_to = veto.end()
            continue
        found = _parse_at(question, pos, anchor)
        if found is not None:
            (since, until), end = found
            if _POSSESSIVE_AFTER.match(question, end):
                # "was last year's programme a blip?": the time names the programme,
                # it does not bound the question
                skip_to = end
                continue
            return Period(since, until, question[pos:end], pos, end)
    return None


_POSSESSIVE_AFTER = re.compile(r"['’]s\b")
# A season word the writer uses about the season they are in or about to enter: not
# "next/last/every summer", "in winter", "since the summer" (another season's, or a plan),
# nor a dish or a chore ("spring rolls", "spring cleaning"). "fall" is left out: a verb.
_SEASON_WORD = re.compile(
    r"\b(spring|summer|autumn|winter)\b(?!\s+(?:rolls?|onions?|clean\w*|water|greens)\b)",
    re.IGNORECASE,
)
_NOT_CURRENT = re.compile(
    r"\b(?:next|last|every|each|since|in|by|over|during|until|till|previous|following)"
    r"(?:\s+\w+)?\s*$",
    re.IGNORECASE,
)
_NORTHERN_MIDDLE = {"spring": 4, "summer": 7, "autumn": 10, "winter": 1}


def _months_apart(a: int, b: int) -> int:
    d = abs(a - b) % 12
    return min(d, 12 - d)


def southern_hemisphere(dated_texts: Iterable[tuple[dt.date, str]]) -> bool:
    """Whether a journal was written in the southern hemisphere, from its own words: a
    New Zealander writing "Summer at the shop is mad" in January, or a Durban caterer
    writing "Winter is coming in" at the end of May, means June to August by "last
    winter". Each season word not about another season ("next summer", "in winter") is a
    vote for the hemisphere where that season is nearer the month it was written in (it
    is in it, or just starting or ending: within two months of its middle month); a word
    written three months from both middles (summer in October) says nothing. Southern
    needs at least two votes more than the northern ones; anything else (most journals
    never say) stays northern, the default. A margin of two, not one: a Spanish journal
    was read as southern from two stray votes against one, a father's promise retold in
    November ("Every May Tata said: this summer we go") and a plan written in January
    ("Or this summer at the river"), so its "winter before last" became June to August."""
    south = north = 0
    for day, text in dated_texts:
        for m in _SEASON_WORD.finditer(text):
            if _NOT_CURRENT.search(text[max(0, m.start() - 24) : m.start()]):
                continue
            middle = _NORTHERN_MIDDLE[m.group(1).lower()]
            to_north = _months_apart(day.month, middle)
            to_south = _months_apart(day.month, middle + 6)
            south += to_south < to_north
            north += to_north < to_south
    return south - north >= 2


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_COMMA_BEFORE_STOP = re.compile(r"[,;:]+\s*([.!?])")
_DOUBLE_COMMA = re.compile(r"([,;:])\s*[,;:]+")
_LEADING = re.compile(r"^[\s,;:]+")
_TRAILING = re.compile(r"[\s,;:]+$")
_SPACES = re.compile(r"[ \t]{2,}")


def strip_period(question: str, period: Period) -> str:
    """The question without its time expression (spaces and commas tidied), for retrieval."""
    head, tail = question[: period.start].rstrip(), question[period.end :].lstrip()
    text = f"{head} {tail}" if head and tail else head or tail
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _COMMA_BEFORE_STOP.sub(r"\1", text)
    text = _DOUBLE_COMMA.sub(r"\1", text)
    text = _SPACES.sub(" ", _TRAILING.sub("", _LEADING.sub("", text)))
    if period.start == 0 and question[:1].isupper() and text[:1].islower():
        text = text[0].upper() + text[1:]
    return text


# --- periods anchored on an event the journal tells ---------------------------------------

# "since my birthday", "after the move", "since our fight": an event, not a date. Only
# after since/after and a determiner, so "since January" and "after work" stay with the
# date rules or with nothing.
_EVENT = re.compile(
    r"\b(?P<rel>since|after|ever since)\s+(?:my|our|the|his|her|their)\s+"
    r"(?P<event>[a-z][a-z'’-]{2,}(?:\s+[a-z][a-z'’-]{2,})?)",
    re.IGNORECASE,
)
# The event's own telling, not a later look back at it ("ever since my birthday ...").
_LOOKING_BACK = re.compile(r"\b(?:since|after|before)\s+(?:my|our|the|his|her|their)\s*$", re.I)
_TELLING_GAP = dt.timedelta(days=14)  # one event is told over entries this close together


# The dated entries, or a function from words to the entries whose folded text
# (``service.insight.folding.fold``) may hold every one of them, as (ISO date, folded
# text): a superset of those a case-blind pattern for the words matches
# (``service.insight.journal.Journal.mentioning``), found without trying each entry.
Dated = Iterable[tuple[dt.date, str]] | Callable[[tuple[str, ...]], Iterable[tuple[str, str]]]


def _told(journal: Dated, words: tuple[str, ...]) -> Iterable[tuple[str, str]]:
    """(ISO date, folded text) of the entries that may hold every one of ``words``."""
    if callable(journal):
        return journal(words)
    folded = ((day.isoformat(), fold(text)) for day, text in journal)
    return ((iso, f) for iso, f in folded if all(may_contain(f, (w,)) for w in words))


def event_period(question: str, journal: Dated, anchor: dt.date) -> Period | None:
    """A period that starts at an event the journal tells ("since my birthday": from the
    entry where the writer's birthday happens, to the anchor), or None.

    The event is found in the journal's own entries, never guessed from the calendar:
    the entries that mention its words, less those that only look back at it ("ever since
    my birthday"); of the last telling (mentions no more than two weeks apart, counted
    back from the latest), the first entry's date starts the period. When the whole
    phrase is never told its first word is tried alone ("since my birthday party" finds
    "my birthday").

    Everything is searched in the entries' folded texts, where a case-blind pattern's
    matches are plain ones at the same offsets, with a phrase pattern that opens with its
    first word (``word_start``), and only the dates of the entries that tell the event
    are read: on 20k entries a case-blind pattern opening with ``\\b``, folding every
    entry per question and reading every candidate's date were most of the question."""
    m = _EVENT.search(question)
    if m is None:
        return None
    words = tuple(fold(m.group("event")).split())
    last = anchor.isoformat()
    for n in range(len(words), 0, -1):
        phrase = re.compile(
            word_start(words[0]) + "".join(r"\s+" + re.escape(w) for w in words[1:n]) + r"s?\b"
        )
        told = sorted(
            iso
            for iso, folded in _told(journal, words[:n])
            if iso <= last and _tells(phrase, folded)
        )
        if not told:
            continue
        end = m.start("event") + len(" ".join(m.group("event").split()[:n]))
        return Period(_last_telling(told), anchor, question[m.start() : end], m.start(), end)
    return None


def _tells(phrase: re.Pattern[str], folded: str) -> bool:
    """Whether the text tells the event, not only looks back at it. Only the words just
    before each mention are read: searching the whole text before it was most of
    ``event_period`` on a long journal."""
    return any(
        not _LOOKING_BACK.search(folded, max(0, h.start() - 60), h.start())
        for h in phrase.finditer(folded)
    )


def _last_telling(told: list[str]) -> dt.date:
    """The first day of the last telling: counted back from the latest of the sorted ISO
    dates while mentions are no more than ``_TELLING_GAP`` apart."""
    start = dt.date.fromisoformat(told[-1])
    for iso in reversed(told[:-1]):
        day = dt.date.fromisoformat(iso)
        if start - day > _TELLING_GAP:
            break
        start = day
    return start
