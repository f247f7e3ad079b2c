"""DPO queries over the ledger's audit projection: search, entry view, subject access,
Art 19 notices, the Art 30 record, the agreement register and ledger health.

Services take a session and a :class:`hub.audit.scope.Viewer` (who is asking, in what role);
they never import Flask. They read :mod:`hub.ledger.projection`, never scan ledger bodies.
"""
