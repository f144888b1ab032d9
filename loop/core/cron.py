"""A small, validated cron parser: five fields (minute hour day-of-month month
day-of-week), each ``*``, a number, a range ``a-b``, a list ``a,b`` and a step ``/n``.
Day of week 0-7 (0 and 7 are Sunday). As in cron, when both day fields are restricted a
day matching either one matches."""

from dataclasses import dataclass
from datetime import datetime, timedelta

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
          ("day of week", 0, 7))  # fmt: skip


class CronError(ValueError):
    """A cron expression that is not five valid fields."""


@dataclass(frozen=True)
class Schedule:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def matches(self, moment: datetime) -> bool:
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after ``moment`` (within about 4 years)."""
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60 * 4):
            if self.matches(candidate):
                return candidate
            candidate += timedelta(minutes=1)
        raise CronError(f"'{self.expression}' never matches.")

    def fired_between(self, start: datetime, end: datetime) -> bool:
        """Whether a matching minute lies in (start, end]."""
        return self.next_after(start) <= end


def _part(text: str, name: str, low: int, high: int) -> set[int]:
    step = 1
    if "/" in text:
        text, step_text = text.split("/", 1)
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"Bad step '/{step_text}' in the {name} field.")
        step = int(step_text)
    if text == "*":
        start, stop = low, high
    elif "-" in text:
        first, _, last = text.partition("-")
        if not (first.isdigit() and last.isdigit()):
            raise CronError(f"Bad range '{text}' in the {name} field.")
        start, stop = int(first), int(last)
    elif text.isdigit():
        start = stop = int(text)
        if step != 1:
            stop = high
    else:
        raise CronError(f"'{text}' is not a number, range or '*' in the {name} field.")
    if not (low <= start <= high and low <= stop <= high) or start > stop:
        raise CronError(f"The {name} field takes {low}-{high}; got '{text}'.")
    return set(range(start, stop + 1, step))


def parse_cron(expression: str) -> Schedule:
    """The schedule of ``expression``; CronError says which field is wrong and why."""
    if not isinstance(expression, str):
        raise CronError("A cron expression is a string of five fields.")
    parts = expression.split()
    if len(parts) != 5:
        raise CronError(
            f"A cron expression has five fields (minute hour day-of-month month "
            f"day-of-week); '{expression}' has {len(parts)}."
        )
    values = []
    for text, (name, low, high) in zip(parts, FIELDS, strict=True):
        found: set[int] = set()
        for item in text.split(","):
            if not item:
                raise CronError(f"Empty list item in the {name} field.")
            found |= _part(item, name, low, high)
        values.append(found)
    weekdays = {day % 7 for day in values[4]}
    return Schedule(
        expression=expression,
        minutes=frozenset(values[0]),
        hours=frozenset(values[1]),
        days=frozenset(values[2]),
        months=frozenset(values[3]),
        weekdays=frozenset(weekdays),
        days_restricted=parts[2] != "*",
        weekdays_restricted=parts[4] != "*",
    )
