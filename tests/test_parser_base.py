"""``BaseParser``, the parser base class redis-py's API names, on redis_native
and on redis-py 7.4.1.

Code written for redis-py imports it at module level -- faststream's Redis
broker does ``from redis.asyncio.connection import BaseParser`` for the type of
its ``parser_class`` option, so without the name ``faststream.redis`` cannot be
imported at all -- and checks parser classes against it.  redis_native reads
replies in C, so its ``BaseParser`` carries the interface only; these tests pin
what both libraries share: the import paths, the class's place above the
default parser, the error table and ``parse_error``, the unimplemented
connection hooks, and a client given a ``BaseParser`` subclass still working.
"""
import importlib

import pytest

from asyncio_util import run


def _mods(lib):
    return (importlib.import_module(lib.__name__ + "._parsers"),
            importlib.import_module(lib.__name__ + "._parsers.base"),
            importlib.import_module(lib.__name__ + ".asyncio.connection"))


def test_import_paths(lib):
    parsers, base, aconn = _mods(lib)
    assert parsers.BaseParser is base.BaseParser is aconn.BaseParser
    assert "BaseParser" in parsers.__all__
    assert base.BaseParser.__module__ == lib.__name__ + "._parsers.base"
    assert base.BaseParser.__qualname__ == "BaseParser"


def test_faststream_style_import(lib):
    # the statement faststream.redis runs at import
    ns = {}
    exec("from %s.asyncio.connection import BaseParser, Connection, Encoder" % lib.__name__, ns)
    assert isinstance(ns["BaseParser"], type)


def test_default_parser_is_a_base_parser(lib):
    parsers, _, aconn = _mods(lib)
    sync_conn = importlib.import_module(lib.__name__ + ".connection")
    assert issubclass(sync_conn.DefaultParser, parsers.BaseParser)
    assert issubclass(aconn.DefaultParser, parsers.BaseParser)


def test_error_table_and_parse_error(lib):
    parsers, _, _ = _mods(lib)
    exc = importlib.import_module(lib.__name__ + ".exceptions")
    B = parsers.BaseParser
    aconn = importlib.import_module(lib.__name__ + ".asyncio.connection")
    assert aconn.DefaultParser.EXCEPTION_CLASSES == B.EXCEPTION_CLASSES
    assert set(B.EXCEPTION_CLASSES) >= {"ERR", "NOSCRIPT", "READONLY", "LOADING"}
    for text, cls, msg in [
        ("WRONGTYPE Operation against a key", exc.ResponseError,
         "WRONGTYPE Operation against a key"),
        ("NOSCRIPT No matching script.", exc.NoScriptError, "No matching script."),
        ("READONLY You can't write", exc.ReadOnlyError, "You can't write"),
        ("ERR max number of clients reached", exc.ConnectionError,
         "max number of clients reached"),
    ]:
        err = B.parse_error(text)
        assert type(err) is cls, text
        assert str(err) == msg


def test_hooks_are_left_to_subclasses(lib):
    parsers, _, _ = _mods(lib)
    p = parsers.BaseParser()
    with pytest.raises(NotImplementedError):
        p.on_connect(None)
    with pytest.raises(NotImplementedError):
        p.on_disconnect()


def test_subclass_as_parser_class(lib, redis_server):
    parsers, _, aconn = _mods(lib)
    aio = importlib.import_module(lib.__name__ + ".asyncio")

    class Mine(aconn.DefaultParser):
        pass

    assert issubclass(Mine, parsers.BaseParser)

    async def main():
        pool = aconn.ConnectionPool(host=redis_server.host, port=redis_server.port,
                                    parser_class=Mine)
        r = aio.Redis(connection_pool=pool)
        try:
            await r.set("bp", "1")
            return await r.get("bp")
        finally:
            await r.aclose()

    assert run(main) == b"1"
