"""Notification channels (email, Twilio SMS/WhatsApp, signed webhook, in-app) and the escalation worker."""
