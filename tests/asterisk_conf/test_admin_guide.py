"""The PBX admin guide (asterisk_conf/README.md) works when followed word by word.

Its snippets are read from the README itself and checked against the DIDs a real Asterisk delivered in the
recorded traces, against the shipped dialplan, and against callrouter's own settings.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import phonenumbers
import pytest
from dialplan_text import Extension, entered_extensions, parse_dialplan
from extension_patterns import matches

from callrouter.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "asterisk_conf" / "README.md"
TRACES = ROOT / "tests" / "asterisk-traces"
TRUNK_CONTEXTS = {"from-trunk", "from-trunk-queue"}
SPECIAL_EXTENSIONS = ("h", "i", "t", "T", "o", "a", "e")  # Asterisk's own: hangup, invalid, timeout...


def snippets(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text (indented ones included)."""
    fences = re.finditer(r"^( *)```[^\n]*\n(.*?)^\1```", text, re.M | re.S)
    return [textwrap.dedent(m.group(2)) for m in fences]


def dialplan_lines(text: str) -> str:
    """Only the section headers and ``exten``/``same`` lines of a dialplan file (no [general] settings)."""
    keep = (line for line in text.splitlines() if re.match(r"\s*(\[|exten\s*=>|same\s*=>)", line))
    return "\n".join(keep)


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text()


@pytest.fixture(scope="module")
def trunk_snippet(guide: str) -> list[Extension]:
    """The guide's ``[from-trunk]`` lines that send calls to callrouter."""
    blocks = [parse_dialplan(b) for b in snippets(guide) if "Goto(callrouter-inbound" in b]
    assert len(blocks) == 1, "one trunk snippet expected"
    (context,) = blocks[0].values()
    return context


@pytest.fixture(scope="module")
def inbound() -> Extension:
    contexts = parse_dialplan((ROOT / "asterisk_conf" / "extensions.conf").read_text())
    (extension,) = contexts["callrouter-inbound"]
    return extension


def trace_dids() -> set[str]:
    """Every DID on which a recorded Asterisk ran a trunk context, or that it sent in an AGI request."""
    dids = {exten for context, exten in entered_extensions(TRACES) if context in TRUNK_CONTEXTS}
    for path in TRACES.glob("**/*.agi"):
        dids.update(re.findall(r"^agi_extension: (\+?\d+)\r?$", path.read_text(), re.M))
    return dids


def national_forms(did: str) -> list[str]:
    """The same DID as a carrier may send it without the country code (8 495 ..., 495 ...)."""
    number = phonenumbers.parse(did)
    national = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return [national, str(number.national_number)]


DIDS = sorted(trace_dids())


def test_the_traces_hold_real_dids() -> None:
    assert "+74951234567" in DIDS


@pytest.mark.parametrize("did", DIDS)
def test_the_trunk_snippet_and_the_inbound_context_take_every_real_did(
    trunk_snippet: list[Extension], inbound: Extension, did: str
) -> None:
    for form in [did, *national_forms(did)]:
        taken = [e for e in trunk_snippet if matches(e.pattern, form)]
        assert taken, f"{form}@from-trunk: no extension in the guide's snippet"
        assert taken[0].priorities[0].app == "Goto"
        assert taken[0].priorities[0].data == "callrouter-inbound,${EXTEN},1"
        assert matches(inbound.pattern, form), f"{form}@callrouter-inbound does not exist"


def test_the_trunk_snippet_leaves_asterisks_special_extensions_alone(trunk_snippet: list[Extension]) -> None:
    assert [s for s in SPECIAL_EXTENSIONS if any(matches(e.pattern, s) for e in trunk_snippet)] == []


def test_the_demo_pbx_trunk_takes_every_real_did() -> None:
    conf = parse_dialplan(dialplan_lines((ROOT / "asterisk_conf" / "docker" / "extensions.conf").read_text()))
    for did in DIDS:
        for form in [did, *national_forms(did)]:
            assert any(matches(e.pattern, form) for e in conf["from-trunk"]), form


def _globals_block(guide: str) -> dict[str, str]:
    (block,) = [b for b in snippets(guide) if b.lstrip().startswith("[globals]")]
    pairs = (line.split(";", 1)[0].split("=", 1) for line in block.splitlines()[1:] if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_the_guides_globals_are_what_the_dialplan_reads_and_never_callrouters_own_settings(
    guide: str,
) -> None:
    dialplan = (ROOT / "asterisk_conf" / "extensions.conf").read_text()
    read = set(re.findall(r"\$\{(CALLROUTER_\w+)\}", dialplan))
    documented = _globals_block(guide)
    assert set(documented) == read
    service = {f"CALLROUTER_{name.upper()}" for name in Settings.model_fields}
    assert "CALLROUTER_DEFAULT_ROUTE" in service
    assert read & service == set(), "a dialplan variable must not share a name with a callrouter setting"
    header = dialplan.split("\n[callrouter-inbound]", 1)[0]
    assert read <= set(re.findall(r"CALLROUTER_\w+", header)), "each one explained in the file's header"


def test_the_guides_fallback_is_not_a_made_up_endpoint(guide: str) -> None:
    assert "Local/reception@agents" not in guide + (ROOT / "asterisk_conf" / "extensions.conf").read_text()
    assert _globals_block(guide)["CALLROUTER_FALLBACK_ROUTE"].startswith("PJSIP/")
    assert "CALLROUTER_DEFAULT_ROUTE" in guide  # the service's own default route is explained too


def test_the_guides_links_lead_to_files_in_the_repository(guide: str) -> None:
    links = re.findall(r"\]\(([^)#:]+)\)", guide)
    assert "../tests/asterisk-traces" in links
    assert [link for link in links if not (GUIDE.parent / link).exists()] == []
    assert "shared/asterisk-traces" not in guide
