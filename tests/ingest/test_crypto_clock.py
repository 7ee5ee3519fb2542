"""``eval.bench_encryption``'s clock of the cryptography itself: it counts every seal and
open while on, and leaves ``Keyring`` as it found it."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine

from eval.bench_encryption import _CryptoClock
from ingest.crypto import Keyring
from ingest.store import create_user, make_sessions


def test_crypto_clock_counts_seal_and_open_and_restores_keyring(engine: Engine) -> None:
    kr = Keyring([secrets.token_bytes(32)])
    sessions = make_sessions(engine, kr)
    originals = (Keyring.seal, Keyring.open)
    clock = _CryptoClock()
    with sessions() as s:
        uid = create_user(s, "ana").id
        s.commit()
        with clock.timing():
            sealed = kr.seal(s, uid, "A sentence to seal.")
            assert kr.open(s, uid, sealed) == "A sentence to seal."
        kr.open(s, uid, sealed)  # not counted: the clock is off
    assert clock.calls == 2
    assert clock.seconds > 0
    assert (Keyring.seal, Keyring.open) == originals
