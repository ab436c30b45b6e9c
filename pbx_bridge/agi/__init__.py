"""Asterisk FastAGI: the routing question Asterisk asks for every inbound call, answered within a deadline."""
