"""Adapters to the telephony world: Asterisk FastAGI and AMI, Twilio."""
