"""How a client connects: unix sockets, URLs, db selection, client names,
passwords and ACL users, and general public-API behaviour (close, reuse,
context manager, large values), against real redis-server processes
(``--impl`` selects the implementation).
"""
import os

import pytest

from servers import wait_until

PASSWORD = "s3cret-Pw!"


# ------------------------------------------------------------------ unix socket, urls, db
def test_unix_socket(api, redis_server, closing):
    r = closing(api.impl.Redis(unix_socket_path=redis_server.unix_path, db=9))
    assert r.ping() is True
    assert r.set("unix", "yes")
    assert r.get("unix") == b"yes"
    assert r.connection_pool.connection_class.__name__ == "UnixDomainSocketConnection"
    info = r.client_info()
    assert info["db"] == 9
    r.delete("unix")


def test_from_url_tcp(api, redis_server, closing, admin):
    url = "redis://%s:%d" % (redis_server.host, redis_server.port)
    r = closing(api.impl.from_url(url))
    assert isinstance(r, api.impl.Redis)
    assert r.ping() is True
    r2 = closing(api.impl.Redis.from_url(url + "/4"))
    r2.set("url-db", "4")
    assert admin(redis_server, db=4).get("url-db") == b"4"
    assert r2.client_info()["db"] == 4
    r3 = closing(api.impl.Redis.from_url(url + "?db=5"))
    assert r3.client_info()["db"] == 5
    r2.delete("url-db")


def test_from_url_query_options(api, redis_server, closing, admin):
    url = ("redis://%s:%d/6?socket_timeout=2.5&decode_responses=True&max_connections=3"
           "&client_name=url-client" % (redis_server.host, redis_server.port))
    r = closing(api.impl.Redis.from_url(url))
    kw = r.connection_pool.connection_kwargs
    assert kw["socket_timeout"] == 2.5
    assert kw["db"] == 6
    # redis-py keeps unparsed query values as strings (decode_responses='True' is truthy)
    import redis as redis_py

    o = redis_py.Redis.from_url(url)
    assert kw == o.connection_pool.connection_kwargs
    o.close()
    assert r.connection_pool.max_connections == 3
    r.set("s", "v")
    assert r.get("s") == "v"
    assert r.client_getname() == "url-client"
    names = [c.get("name") for c in admin(redis_server).client_list()]
    assert "url-client" in names
    r.delete("s")


def test_from_url_unix(api, redis_server, closing, admin):
    r = closing(api.impl.from_url("unix://%s?db=2" % redis_server.unix_path))
    assert r.connection_pool.connection_class.__name__ == "UnixDomainSocketConnection"
    r.set("unix-url", "x")
    assert admin(redis_server, db=2).get("unix-url") == b"x"
    assert r.client_info()["db"] == 2
    r.delete("unix-url")


def test_from_url_password(api, server_factory, closing):
    srv = server_factory(password=PASSWORD)
    from urllib.parse import quote

    good = closing(api.impl.from_url("redis://:%s@%s:%d/0" % (quote(PASSWORD), srv.host, srv.port)))
    assert good.ping() is True
    bad = closing(api.impl.from_url("redis://:wrong@%s:%d/0" % (srv.host, srv.port), retry=api.no_retry()))
    with pytest.raises(api.exc.AuthenticationError):
        bad.ping()
    assert PASSWORD not in repr(good.connection_pool)
    assert quote(PASSWORD) not in repr(good.connection_pool)


def test_db_selection(api, redis_server, closing, admin):
    r3 = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=3))
    r3.set("dbsel", "three")
    assert admin(redis_server, db=3).get("dbsel") == b"three"
    assert admin(redis_server, db=0).get("dbsel") is None
    r4 = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db="4"))
    assert r4.get("dbsel") is None
    assert r4.client_info()["db"] == 4
    r3.delete("dbsel")


def test_client_name_in_client_list(api, redis_server, closing, admin):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, client_name="robust-name"))
    assert r.ping()
    names = [c.get("name") for c in admin(redis_server).client_list()]
    assert "robust-name" in names
    assert r.client_getname() == "robust-name"  # redis-py returns str here even without decoding
    assert r.client_info()["name"] == "robust-name"


# ------------------------------------------------------------------ authentication
def test_password_auth(api, server_factory, closing):
    srv = server_factory(password=PASSWORD)
    good = closing(api.impl.Redis(host=srv.host, port=srv.port, password=PASSWORD))
    assert good.ping() is True
    assert good.set("a", 1) and good.get("a") == b"1"
    wrong = closing(api.impl.Redis(host=srv.host, port=srv.port, password="wrong", retry=api.no_retry()))
    with pytest.raises(api.exc.AuthenticationError):
        wrong.ping()
    none = closing(api.impl.Redis(host=srv.host, port=srv.port, retry=api.no_retry()))
    with pytest.raises(api.exc.AuthenticationError):
        none.get("a")
    # good client unaffected
    assert good.get("a") == b"1"


def test_password_on_server_without_password(api, redis_server, closing):
    # redis-py 7.4: AUTH with a password on a server without requirepass is an error
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, password="whatever",
                               retry=api.no_retry()))
    import redis as redis_py

    o = redis_py.Redis(host=redis_server.host, port=redis_server.port, password="whatever",
                       retry=redis_py.retry.Retry(redis_py.backoff.NoBackoff(), 0))
    try:
        try:
            expected = ("ok", o.ping())
        except Exception as e:
            expected = ("raised", type(e).__name__)
    finally:
        o.close()
    try:
        got = ("ok", r.ping())
    except Exception as e:
        got = ("raised", type(e).__name__)
    assert got == expected


def test_username_password_acl(api, server_factory, closing, admin):
    srv = server_factory()
    a = admin(srv)
    a.acl_setuser("alice", enabled=True, passwords=["+alicepw"], keys=["*"], commands=["+@all"])
    a.close()
    r = closing(api.impl.Redis(host=srv.host, port=srv.port, username="alice", password="alicepw",
                               decode_responses=True))
    assert r.acl_whoami() == "alice"
    assert r.set("x", 1) and r.get("x") == "1"
    bad = closing(api.impl.Redis(host=srv.host, port=srv.port, username="alice", password="nope",
                                 retry=api.no_retry()))
    with pytest.raises(api.exc.AuthenticationError):
        bad.ping()
    nouser = closing(api.impl.Redis(host=srv.host, port=srv.port, username="bob", password="alicepw",
                                    retry=api.no_retry()))
    with pytest.raises(api.exc.AuthenticationError):
        nouser.ping()
    url = closing(api.impl.from_url("redis://alice:alicepw@%s:%d" % (srv.host, srv.port)))
    assert url.acl_whoami() == "alice"
    assert "alicepw" not in repr(url.connection_pool)


def test_repr_hides_password(api, server_factory, closing):
    srv = server_factory(password=PASSWORD)
    r = closing(api.impl.Redis(host=srv.host, port=srv.port, password=PASSWORD))
    assert r.ping()
    texts = [repr(r), repr(r.connection_pool), str(r.connection_pool)]
    conn = r.connection_pool.get_connection()
    try:
        texts += [repr(conn), str(conn)]
    finally:
        r.connection_pool.release(conn)
    bp = closing(api.impl.BlockingConnectionPool(host=srv.host, port=srv.port, password=PASSWORD))
    texts.append(repr(bp))
    up = closing(api.impl.ConnectionPool(path=srv.unix_path, password=PASSWORD,
                                         connection_class=api.impl.UnixDomainSocketConnection))
    texts.append(repr(up))
    uc = up.get_connection()
    try:
        texts.append(repr(uc))
    finally:
        up.release(uc)
    for t in texts:
        assert PASSWORD not in t, t


# ------------------------------------------------------------------ misc public-API robustness
def test_close_and_reuse(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port))
    assert r.ping()
    r.close()
    # a closed client reconnects lazily, like redis-py
    assert r.ping()


def test_context_manager(api, redis_server):
    with api.impl.Redis(host=redis_server.host, port=redis_server.port) as r:
        assert r.ping()


def test_large_value_roundtrip(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
    big = os.urandom(8 * 1024 * 1024)
    assert r.set("big", big)
    assert r.get("big") == big
    r.delete("big")


def test_many_pending_clients_closed(api, redis_server, admin):
    # open and close many clients: no leak of server connections
    a = admin(redis_server)
    before = len(a.client_list())
    for _ in range(50):
        c = api.impl.Redis(host=redis_server.host, port=redis_server.port)
        c.ping()
        c.close()
    assert wait_until(lambda: len(a.client_list()) <= before + 2, timeout=15)
    a.close()
