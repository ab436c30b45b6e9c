"""Asterisk Manager Interface adapter: parser, link, client, supervisor."""
