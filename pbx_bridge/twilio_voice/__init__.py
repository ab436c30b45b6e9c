"""Twilio as a second telephony front: signed voice webhooks answered with TwiML, calls recorded as CRM calls.

* :mod:`.dial_targets` maps the routing chain's dial strings to Twilio ``<Sip>`` / ``<Number>`` nouns;
* :mod:`.twiml` renders TwiML for a routing decision, one ``<Dial>`` per chain step;
* :mod:`.call_summary` folds Twilio's webhook parameters into the same :class:`~routing.call_state.CallState`
  the AMI path builds, so ``routing.missed_policy`` classifies both alike;
* :mod:`.voice` is the adapter the HTTP routes call: decide, persist the call's progress, record the end.
"""
