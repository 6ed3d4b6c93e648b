"""The built-in call simulator: a discrete-event engine that drives the production ACD through the port."""
