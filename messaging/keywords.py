"""STOP and START: the opt-out keywords a contact texts, recognised by one rule.

`keyword(body)` is the predicate the receiver uses (messaging.inbound: STOP opts the
contact out, START back in); `KEYWORD_REGEX` is the same rule for a database filter
(`body__iregex=KEYWORD_REGEX`), e.g. the campaign report, where a keyword is not a reply.
A body is a keyword when, once surrounding spaces, dots and exclamation marks are left
out, it is one of the words below in any case: "stop", " Stop! ", "START." are; "stop it",
"ST.OP" are not.
"""

import re
from enum import StrEnum

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})

# Understood alike by Python's re, PostgreSQL's ~* and SQLite's REGEXP (Django's, in Python).
_WORDS = "|".join(sorted(STOP_WORDS | START_WORDS))
KEYWORD_REGEX = rf"^\s*[.!]*({_WORDS})[.!]*\s*$"
_KEYWORD = re.compile(KEYWORD_REGEX, re.IGNORECASE)


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"


def keyword(body: str) -> tuple[Keyword, str] | None:
    """(STOP or START, the word as texted, upper case) when `body` is an opt-out keyword."""
    found = _KEYWORD.fullmatch(body)
    if found is None:
        return None
    word = found.group(1).upper()
    return (Keyword.STOP if word in STOP_WORDS else Keyword.START), word


def is_keyword(body: str) -> bool:
    return keyword(body) is not None
