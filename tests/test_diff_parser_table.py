"""``DefaultParser.EXCEPTION_CLASSES``: the error-prefix table, redis_native vs redis-py.

Libraries read this class attribute of ``redis.connection.DefaultParser``:
fakeredis builds its exception -> prefix map from it when it is imported, so
without it ``import fakeredis`` fails (and every test module that imports it,
including the ones that parametrize over fakeredis and a live server).
"""
import asyncio
import importlib

import pytest


def _shape(table):
    """The table as names: prefix -> class name, or for ERR message -> class name."""
    out = {}
    for prefix, target in table.items():
        if isinstance(target, dict):
            out[prefix] = {msg: cls.__name__ for msg, cls in target.items()}
        else:
            out[prefix] = target.__name__
    return out


def test_default_parser_has_the_same_exception_table(impl, redis_py):
    mine = impl.connection.DefaultParser.EXCEPTION_CLASSES
    theirs = redis_py.connection.DefaultParser.EXCEPTION_CLASSES
    assert _shape(mine) == _shape(theirs)
    # one table, shared with the asyncio DefaultParser, as in redis-py
    assert impl.asyncio.connection.DefaultParser.EXCEPTION_CLASSES is mine
    assert redis_py.asyncio.connection.DefaultParser.EXCEPTION_CLASSES is theirs
    # each class is the implementation's own exception class
    exc = impl.exceptions
    for target in mine.values():
        for cls in (target.values() if isinstance(target, dict) else [target]):
            assert getattr(exc, cls.__name__) is cls


def test_fakeredis_style_prefix_map(lib):
    """What fakeredis computes from the table at import: exception class -> prefix."""
    table = lib.connection.DefaultParser.EXCEPTION_CLASSES
    by_class = {v: k for k, v in table.items()
                if isinstance(v, type) and issubclass(v, Exception)}
    assert by_class[lib.exceptions.NoScriptError] == "NOSCRIPT"
    assert by_class[lib.exceptions.ReadOnlyError] == "READONLY"
    assert lib.exceptions.ResponseError not in by_class


def test_parse_error_of_an_instance(lib):
    """fakeredis: ``DefaultParser(socket_read_size=65536).parse_error(text)``."""
    parser = lib.connection.DefaultParser(socket_read_size=65536)
    e = parser.parse_error("NOSCRIPT No matching script")
    assert type(e) is lib.exceptions.NoScriptError and str(e) == "No matching script"
    e = parser.parse_error("WRONGTYPE Operation against a key")
    assert type(e) is lib.exceptions.ResponseError
    assert str(e) == "WRONGTYPE Operation against a key"


@pytest.mark.parametrize("decode", [False, True])
def test_added_prefix_applies_to_replies(lib, redis_server, monkeypatch, decode):
    """An entry added to the shared table maps the server's error replies, in a
    command and in a pipeline."""
    exc = lib.exceptions

    class WrongType(exc.ResponseError):
        pass

    monkeypatch.setitem(lib.connection.DefaultParser.EXCEPTION_CLASSES, "WRONGTYPE", WrongType)
    r = lib.Redis(host=redis_server.host, port=redis_server.port, decode_responses=decode)
    try:
        r.delete("ptab:str")
        r.set("ptab:str", "v")
        with pytest.raises(WrongType) as info:
            r.lpush("ptab:str", "x")
        assert str(info.value).startswith("Operation against a key holding")
        p = r.pipeline()
        p.get("ptab:str").lpush("ptab:str", "x")
        res = p.execute(raise_on_error=False)
        assert res[0] == ("v" if decode else b"v") and type(res[1]) is WrongType
    finally:
        r.delete("ptab:str")
        r.close()


def test_added_prefix_applies_to_asyncio_replies(lib, redis_server, monkeypatch):
    exc = lib.exceptions
    aio = importlib.import_module(lib.__name__ + ".asyncio")

    class WrongType(exc.ResponseError):
        pass

    monkeypatch.setitem(lib.connection.DefaultParser.EXCEPTION_CLASSES, "WRONGTYPE", WrongType)

    async def main():
        r = aio.Redis(host=redis_server.host, port=redis_server.port)
        try:
            await r.set("ptab:astr", "v")
            with pytest.raises(WrongType):
                await r.lpush("ptab:astr", "x")
            p = r.pipeline()
            p.lpush("ptab:astr", "x")
            res = await p.execute(raise_on_error=False)
            assert type(res[0]) is WrongType
        finally:
            await r.delete("ptab:astr")
            await r.aclose()

    asyncio.run(main())


def test_subclass_table_used_by_its_parse_error(lib):
    base = lib.connection.DefaultParser

    class Mine(lib.exceptions.ResponseError):
        pass

    class Parser(base):
        EXCEPTION_CLASSES = {**base.EXCEPTION_CLASSES, "CUSTOM": Mine}

    e = Parser.parse_error("CUSTOM went wrong")
    assert type(e) is Mine and str(e) == "went wrong"
    assert type(base.parse_error("CUSTOM went wrong")) is lib.exceptions.ResponseError
