"""A :class:`RouteDecision` as the channel variables the dialplan reads, and the ``SET VARIABLE`` commands.

Every variable is set on every call (empty when it does not apply), so a channel never keeps a stale
value from an earlier AGI run. ``ROUTE_CHAIN`` is the whole ordered chain, steps joined by ``|`` and each
step ``<dial string>~<ring seconds>``::

    PJSIP/101~20|PJSIP/102&PJSIP/103~15|PJSIP/100~30

The dialplan loops ``i`` from 1 to ``${FIELDQTY(ROUTE_CHAIN,|)}`` and dials
``${CUT(STEP,~,1)},${CUT(STEP,~,2)}`` with ``STEP=${CUT(ROUTE_CHAIN,|,${i})}``. ``&`` is not a separator
because it is part of dial strings (ring several phones at once); ``|`` and ``~`` never are. A dial string
that breaks ``crm_core.dial_strings``' rule (the one every writer applies) is refused.
"""

from __future__ import annotations

from crm_core.dial_strings import STEP_SEPARATOR, TIMEOUT_SEPARATOR, check_dial_string
from routing.decision import RouteDecision, RouteStep

# res_agi reads a command into a buffer of AGI_BUF_LEN (2048) bytes: a longer line would be cut.
MAX_COMMAND_BYTES = 2047

# The variables the server sets, in the order it sets them (the dialplan test checks against this).
VARIABLE_NAMES = (
    "ROUTE_KIND",
    "ROUTE_TARGET",
    "ROUTE_TIMEOUT",
    "ROUTE_CHAIN",
    "ROUTE_COUNTERPARTY_ID",
    "ROUTE_MANAGER_ID",
    "ROUTE_REGISTER",
    "ROUTE_REJECT",
    "ROUTE_AFTER_HOURS",
)


def _step(step: RouteStep) -> str:
    check_dial_string(step.target)
    if step.timeout_s <= 0:
        raise ValueError(f"ring timeout of {step.target!r} must be positive, got {step.timeout_s}")
    return f"{step.target}{TIMEOUT_SEPARATOR}{step.timeout_s}"


def route_variables(decision: RouteDecision) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs for ``decision``; ValueError if a dial string cannot be carried safely.

    >>> from routing.decision import RouteKind
    >>> d = RouteDecision(RouteKind.MANAGER, (RouteStep("PJSIP/101", 20), RouteStep("PJSIP/102", 15)),
    ...                   counterparty_id=7, manager_id=3)
    >>> route_variables(d)  # doctest: +NORMALIZE_WHITESPACE
    [('ROUTE_KIND', 'manager'), ('ROUTE_TARGET', 'PJSIP/101'), ('ROUTE_TIMEOUT', '20'),
     ('ROUTE_CHAIN', 'PJSIP/101~20|PJSIP/102~15'), ('ROUTE_COUNTERPARTY_ID', '7'),
     ('ROUTE_MANAGER_ID', '3'), ('ROUTE_REGISTER', '0'), ('ROUTE_REJECT', ''), ('ROUTE_AFTER_HOURS', '0')]
    """
    chain = STEP_SEPARATOR.join(_step(s) for s in decision.steps)
    first = decision.steps[0] if decision.steps else None
    values = (
        decision.kind.value,
        first.target if first else "",
        str(first.timeout_s) if first else "",
        chain,
        "" if decision.counterparty_id is None else str(decision.counterparty_id),
        "" if decision.manager_id is None else str(decision.manager_id),
        "1" if decision.register_number else "0",
        decision.treatment or "",
        "1" if decision.after_hours else "0",
    )
    return list(zip(VARIABLE_NAMES, values, strict=True))


def quote(value: str) -> str:
    """Quote a value for an AGI command line (Asterisk's ``parse_args`` understands ``\\`` escapes).

    >>> quote('say "hi" \\\\o/')
    '"say \\\\"hi\\\\" \\\\\\\\o/"'
    >>> quote("a\\nb")
    Traceback (most recent call last):
    ...
    ValueError: control characters cannot be sent in an AGI command: 'a\\nb'
    """
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError(f"control characters cannot be sent in an AGI command: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_variable_command(name: str, value: str) -> bytes:
    """The ``SET VARIABLE`` command line for one variable.

    >>> set_variable_command("ROUTE_KIND", "manager")
    b'SET VARIABLE ROUTE_KIND "manager"\\n'
    """
    line = f"SET VARIABLE {name} {quote(value)}\n".encode()
    if len(line) > MAX_COMMAND_BYTES:
        raise ValueError(f"{name} is {len(line)} bytes, Asterisk reads at most {MAX_COMMAND_BYTES}")
    return line


def route_commands(decision: RouteDecision) -> list[bytes]:
    """Every ``SET VARIABLE`` line for ``decision``, validated (ValueError if it cannot be sent)."""
    return [set_variable_command(name, value) for name, value in route_variables(decision)]


def chain_problem(decision: RouteDecision) -> str | None:
    """Why the FastAGI server would refuse to send ``decision`` (and answer the default route), or None.

    >>> from routing.decision import RouteKind
    >>> chain_problem(RouteDecision(RouteKind.MANAGER, (RouteStep("PJSIP/101", 20),))) is None
    True
    >>> chain_problem(RouteDecision(RouteKind.MANAGER, (RouteStep("PJSIP/1|2", 20),)))
    "dial string 'PJSIP/1|2' contains '|', a separator of the routing chain"
    """
    try:
        route_commands(decision)
    except ValueError as exc:
        return str(exc)
    return None
