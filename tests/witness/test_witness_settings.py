"""``HUB_WITNESSES`` and ``HUB_WITNESS_QUORUM``: parsed, checked, every problem named."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.ledger.checkpoint import verifier_key
from hub.settings import Settings, SettingsError
from hub.witness.cosignature import cosigner_verifier_key

W1 = cosigner_verifier_key("witness.police.test/w1", Ed25519PrivateKey.generate())
W2 = cosigner_verifier_key("witness.council.test/w2", Ed25519PrivateKey.generate())


def test_witnesses_and_quorum():
    settings = Settings.from_env({"HUB_WITNESSES": f"http://127.0.0.1:8601/ {W1},\n"
                                                   f"https://w2.example/witness {W2}"})  # fmt: skip
    assert [(w.name, w.url) for w in settings.witnesses] == [
        ("witness.police.test/w1", "http://127.0.0.1:8601"),
        ("witness.council.test/w2", "https://w2.example/witness"),
    ]
    assert settings.witness_quorum_needed == 2  # all of them unless HUB_WITNESS_QUORUM says
    one = Settings.from_env({"HUB_WITNESSES": f"http://a.test {W1}, http://b.test {W2}",
                             "HUB_WITNESS_QUORUM": "1"})  # fmt: skip
    assert one.witness_quorum_needed == 1
    assert Settings.from_env({}).witnesses == () and Settings.from_env({}).witness_quorum_needed == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_WITNESSES": f"http://a.test {W1}", "HUB_WITNESS_QUORUM": "2"}, "HUB_WITNESS_QUORUM"),
        ({"HUB_WITNESSES": f"http://a.test {W1}", "HUB_WITNESS_QUORUM": "0"}, "HUB_WITNESS_QUORUM"),
        ({"HUB_WITNESS_QUORUM": "1"}, "HUB_WITNESS_QUORUM"),
        ({"HUB_WITNESSES": f"ftp://a.test {W1}"}, "HUB_WITNESSES"),
        ({"HUB_WITNESSES": f"http://a.test?x=1 {W1}"}, "HUB_WITNESSES"),
        ({"HUB_WITNESSES": "http://a.test"}, "HUB_WITNESSES"),
        ({"HUB_WITNESSES": f"http://a.test {W1}, http://b.test {W1}"}, "share a name"),
        # a note key (0x01) is the log's kind of key, not a cosigner's (0x04)
        ({"HUB_WITNESSES": f"http://a.test {verifier_key('w.test/x', Ed25519PrivateKey.generate())}"},
         "cosignature/v1"),
        ({"HUB_WITNESSES": f"http://a.test {W1[:-4]}AAAA"}, "HUB_WITNESSES"),
    ],
)
def test_bad_witness_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_production_needs_https_witnesses():
    with pytest.raises(SettingsError, match="https witness URLs"):
        Settings.from_env({"HUB_PRODUCTION": "true", "HUB_WITNESSES": f"http://a.test {W1}"})
