"""Errors of the AMI transport; callers see these, never raw socket or panoramisk exceptions."""

from __future__ import annotations


class AmiError(Exception):
    """Base of every AMI transport error."""


class AmiNotConnected(AmiError):
    """The link is not logged in: the action was refused at once."""


class AmiDisconnected(AmiError):
    """The link went down while the action waited for its response."""


class AmiActionTimeout(AmiError):
    """No (complete) response to an action within its deadline."""


class AmiActionFailed(AmiError):
    """Asterisk answered ``Response: Error``; the message is Asterisk's ``Message``."""


class AmiLoginFailed(AmiError):
    """Asterisk refused the Login (wrong user or secret, or no AMI permission)."""


class AmiUnknownPbx(AmiError, LookupError):
    """No AMI link is configured under that PBX name."""
