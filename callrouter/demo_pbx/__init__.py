"""A simulated PBX for ``make demo``: Asterisk's manager interface over real TCP, replaying recorded calls.

``callrouter demo pbx`` listens where ``CALLROUTER_AMI_HOST``/``_PORT`` point, waits for ``callrouter serve``
to log in, asks serve's FastAGI server where each demo call goes (as the dialplan does) and replays a real
Asterisk 20 recording (``recordings/``, copies of ``tests/asterisk-traces/sip``) with the caller, the
uniqueids, the times and the dialled phone substituted. Serve cannot tell it from a PBX.
"""
