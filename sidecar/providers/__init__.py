"""SMS providers: the Twilio adapter and the fake Twilio REST server used by tests and the demo."""
