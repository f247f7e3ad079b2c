"""Consent records: what a partner recorded when a subject consented, and any withdrawal."""
