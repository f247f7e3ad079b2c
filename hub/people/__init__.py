"""People who sign in to the console: accounts, second factors, sessions, security audit.

Services here take a SQLAlchemy session and plain values; nothing imports Flask, so the
CLI, the console and tests share one implementation of the sign-in rules.
"""
