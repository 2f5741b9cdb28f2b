"""redis_native.credentials against redis-py's redis.credentials."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Tuple

import pytest
import redis.credentials as oracle_credentials

from redis_native import credentials


# ----------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    "args",
    [(), ("user", "pw"), (None, "pw"), ("", "pw"), ("user", None), ("user",),
     (None, None), ("user", "")],
)
def test_username_password_provider_matches_redis_py(args: tuple) -> None:
    ours = credentials.UsernamePasswordCredentialProvider(*args)
    theirs = oracle_credentials.UsernamePasswordCredentialProvider(*args)
    assert ours.get_credentials() == theirs.get_credentials()
    assert type(ours.get_credentials()) is tuple
    assert (ours.username, ours.password) == (theirs.username, theirs.password)
    assert asyncio.run(ours.get_credentials_async()) == theirs.get_credentials()


def test_username_password_keywords() -> None:
    p = credentials.UsernamePasswordCredentialProvider(username="u", password="p")
    assert p.get_credentials() == ("u", "p")
    assert credentials.UsernamePasswordCredentialProvider(password="p").get_credentials() == ("p",)
    assert isinstance(p, credentials.CredentialProvider)


def test_base_provider() -> None:
    base = credentials.CredentialProvider()
    with pytest.raises(NotImplementedError, match="get_credentials must be implemented"):
        base.get_credentials()


def test_base_async_falls_back_to_sync(caplog: pytest.LogCaptureFixture) -> None:
    class Mine(credentials.CredentialProvider):
        def get_credentials(self) -> Tuple[str, str]:
            return ("a", "b")

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(Mine().get_credentials_async()) == ("a", "b")
    assert any("backward compatab" in r.getMessage() for r in caplog.records)


def test_streaming_provider_is_abstract() -> None:
    with pytest.raises(TypeError):
        credentials.StreamingCredentialProvider()  # type: ignore[abstract]

    class Stream(credentials.StreamingCredentialProvider):
        def on_next(self, callback: Callable[[Any], None]) -> None:
            self.next_cb = callback

        def on_error(self, callback: Callable[[Exception], None]) -> None:
            self.err_cb = callback

        def is_streaming(self) -> bool:
            return True

        def get_credentials(self) -> Tuple[str]:
            return ("tok",)

    s = Stream()
    assert s.is_streaming() and s.get_credentials() == ("tok",)
    assert isinstance(s, credentials.CredentialProvider)
    assert set(credentials.StreamingCredentialProvider.__abstractmethods__) == set(
        oracle_credentials.StreamingCredentialProvider.__abstractmethods__
    )
