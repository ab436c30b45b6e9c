"""Dial strings every writer must refuse, because the FastAGI server would refuse to send them.

One list for both ends, so the writers' tests and the FastAGI tests check the same rule.
"""

from __future__ import annotations

UNSAFE_DIAL_STRINGS = (
    "PJSIP/101|PJSIP/102",  # the chain's step separator
    "PJSIP/101~20",  # the chain's timeout separator
    "PJSIP/101,20",  # Dial's argument separator
    "PJSIP/101\nPJSIP/102",  # ends the AGI command line
    "PJSIP/101 PJSIP/102",  # no device name has a space
    'PJSIP/"101"',  # Dial removes quotes
    "PJSIP/1\\01",  # Dial removes backslashes
    "PJSIP/101(",  # Dial would not split at the comma after it
    " ",
)
