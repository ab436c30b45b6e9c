"""The pattern-matching helper agrees with Asterisk's documented examples and with what real Asterisk did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dialplan_text import entered_extensions
from extension_patterns import matches

TRACES = Path(__file__).resolve().parents[1] / "asterisk-traces"

# (pattern, matched, not matched): docs.asterisk.org "Pattern Matching" and "Asterisk: The Future of
# Telephony" (X, Z, N, [1237-9], _NXX, _555XXXX vs _55512XX, . one or more, ! zero or more), and the
# DID-pattern tables of Yeastar's PBX manual, which uses Asterisk's syntax (0591., +[13-5]XZN!, 0591ZXXXX).
DOCUMENTED = [
    ("_X", ["0", "9"], ["", "a", "+", "10"]),
    ("_Z", ["1", "9"], ["0"]),
    ("_N", ["2", "9"], ["0", "1"]),
    ("_[1237-9]", ["1", "2", "3", "7", "8", "9"], ["0", "4", "5", "6"]),
    ("_NXX", ["200", "555", "999"], ["199", "20", "2000"]),
    ("_555XXXX", ["5551212"], ["555121", "5561212"]),
    ("_55512XX", ["5551212"], ["5551312"]),
    ("_9011.", ["90115", "9011123456"], ["9011", "9012345"]),
    ("_9011!", ["9011", "90115"], ["901"]),
    ("_0591.", ["05910", "0591012345"], ["0591", "0592229929"]),
    ("_+[13-5]XZN!", ["+4022", "+1136282882"], ["+0136282882", "+1106282882"]),
    ("_0591ZXXXX", ["059123456", "059133456"], ["05912345", "059103456"]),
    ("_nxx", ["200"], ["199"]),  # the letters mean the same in lower case
    ("_555-XXXX", ["5551212", "555-1212"], ["555121"]),  # a '-' is only a separator
    ("s", ["s"], ["S", "s1"]),  # not a pattern: the name itself
]


@pytest.mark.parametrize(("pattern", "hits", "misses"), DOCUMENTED)
def test_documented_examples(pattern: str, hits: list[str], misses: list[str]) -> None:
    assert [x for x in hits if not matches(pattern, x)] == []
    assert [x for x in misses if matches(pattern, x)] == []


def test_x_dot_does_not_match_an_e164_did_as_real_asterisk_reported() -> None:
    """Asterisk 20: "There is no existence of +74951234567@from-trunk extension" with only ``_X.``."""
    assert not matches("_X.", "+74951234567")
    assert matches("_+X.", "+74951234567") and matches("_[+0-9].", "+74951234567")


def _lab_patterns() -> dict[str, list[str]]:
    """Context -> extension patterns of the dialplan the traces were recorded with."""
    contexts: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (TRACES / "lab-extensions.conf").read_text().splitlines():
        if m := re.fullmatch(r"\[([\w-]+)\].*", line.strip()):
            current = contexts.setdefault(m.group(1), [])
        elif m := re.match(r"exten\s*=>\s*([^,]+),", line.strip()):
            current.append(m.group(1))
    return contexts


def test_every_extension_real_asterisk_entered_matches_a_pattern_of_the_lab_dialplan() -> None:
    patterns = _lab_patterns()
    entered = entered_extensions(TRACES)
    assert len(entered) >= 10 and ("agents", "answer-m1") in entered
    unmatched = [
        (context, exten)
        for context, exten in sorted(entered)
        if context in patterns and not any(matches(p, exten) for p in patterns[context])
    ]
    assert unmatched == []
    # the lab writes a literal n as [n] because a bare n is N (2-9): the helper must refuse that reading too
    assert not matches("_answer-.", "answer-m1") and matches("_a[n]swer-.", "answer-m1")
