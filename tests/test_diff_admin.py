"""Differential tests: server administration commands (redis_native vs redis-py).

client_*, acl_*, config_*, debug_object, memory_*, latency_*, slowlog_*, module_*,
command_*, info, lolwut, role, time, lastsave, dbsize, swapdb, wait, object.

Server-global state (ACL users, config, slowlog, client names) is shared by the two
sides, so multi-step scenarios run as whole sequences on one side and then on the
other (``diffutil.check``), each starting from the same state.  Nondeterministic
values (ids, addresses, times, counters) are compared by shape.

Commands redis-server 7.0.15 lacks (CLIENT NO-TOUCH, CLIENT SETINFO, WAITAOF,
HOTKEYS ...) are tested at the wire level: both clients talk to
:class:`RecordingServer`, a tiny fake server that records the RESP commands it
receives, and the recorded commands must be identical (the ``wire`` fixture of
conftest.py; ``RecordingServer`` is in servers.py).
"""
from __future__ import annotations

import threading
import time

import pytest

import diffutil
from diffutil import check, recorded, shape
from servers import RecordingServer

NON_UTF8 = b"\xff\xfe"
UNICODE = "\u00e4dm\u00efn \u2603"


def test_recording_server_self_test(redis_py):
    srv = RecordingServer()
    try:
        cmds, out = recorded(redis_py, srv, lambda c: c.set("k", b"v\r\n", ex=5))
    finally:
        srv.close()
    assert cmds == [(b"SET", b"k", b"v\r\n", b"EX", b"5")]
    assert out is True


# =====================================================================================
# helpers
# =====================================================================================
def _module_of(client):
    import importlib

    return importlib.import_module(type(client).__module__.split(".")[0])


def _no_retry(module):
    """A Retry that does not retry (AuthenticationError is a ConnectionError, which the
    default Retry of redis-py 7 retries with backoff)."""
    import importlib

    retry = importlib.import_module(module.__name__ + ".retry")
    backoff = importlib.import_module(module.__name__ + ".backoff")
    return retry.Retry(backoff.NoBackoff(), 0)


def _seq(diff, calls, how=None, msg=True):
    """Run ``calls`` as a whole on the native side, then on the oracle side."""
    out = check(diff.native, diff.oracle, calls, how=how, msg=msg)
    diff.native_admin.flushdb()  # check() flushes only the oracle db at the end
    return out


def _k(x):
    return x.decode() if isinstance(x, bytes) else x


def mask(keys):
    """Normaliser: replace the values of the given dict keys (recursively)."""
    keys = set(keys)

    def norm(x):
        if isinstance(x, dict):
            return {k: (("<masked>", type(v).__name__) if _k(k) in keys else norm(v)) for k, v in x.items()}
        if isinstance(x, list):
            return [norm(v) for v in x]
        if isinstance(x, tuple):
            return tuple(norm(v) for v in x)
        return x

    return norm


# =====================================================================================
# ACL
# =====================================================================================
USERS = ["rn-acl-alice", "rn-acl-bob", "rn-acl-" + UNICODE]


def _drop_users(c):
    return c.acl_deluser(*USERS)


@pytest.fixture
def acl_cleanup(redis_server):
    import redis

    yield
    c = redis.Redis(host=redis_server.host, port=redis_server.port)
    try:
        c.acl_deluser(*USERS)
        c.acl_log_reset()
    finally:
        c.close()


def test_acl_setuser_getuser(diff, acl_cleanup):
    alice, bob, uni = USERS
    _seq(diff, [
        (_drop_users,),
        ("acl_setuser", (alice,)),
        ("acl_getuser", (alice,)),
        ("acl_setuser", (alice,), {"enabled": True, "nopass": True}),
        ("acl_getuser", (alice,)),
        ("acl_setuser", (bob,), dict(
            enabled=True, passwords=["+pw1", "+pw2"], categories=["+@read", "-@dangerous"],
            commands=["+set", "-get", "+client|id"], keys=["k:*", "%R~r:*"], channels=["ch:*"])),
        ("acl_getuser", (bob,)),
        ("acl_setuser", (bob,), dict(enabled=True, passwords="-pw1", reset_keys=True, keys="other:*")),
        ("acl_getuser", (bob,)),
        ("acl_setuser", (bob,), dict(hashed_passwords=["+" + "a" * 64], reset_channels=True)),
        ("acl_getuser", (bob,)),
        ("acl_setuser", (bob,), dict(hashed_passwords="-" + "a" * 64, reset_passwords=True, nopass=True)),
        ("acl_getuser", (bob,)),
        ("acl_setuser", (bob,), dict(selectors=[("+get", "sel:*"), ("+@write", "%W~w:*")])),
        ("acl_getuser", (bob,)),
        ("acl_setuser", (bob,), dict(reset=True)),
        ("acl_getuser", (bob,)),
        ("acl_setuser", (uni,), dict(enabled=True, passwords=["+" + UNICODE])),
        ("acl_getuser", (uni,)),
        ("acl_getuser", ("rn-acl-nobody",)),
        ("acl_getuser", ("default",)),
        # client-side validation
        ("acl_setuser", (alice,), dict(nopass=True, passwords="+x")),
        ("acl_setuser", (alice,), dict(passwords="noprefix")),
        ("acl_setuser", (alice,), dict(hashed_passwords="noprefix")),
        ("acl_setuser", (alice,), dict(categories=["read"])),
        ("acl_setuser", (alice,), dict(commands=["get"])),
        ("acl_setuser", (alice,), dict(hashed_passwords="+tooshort")),  # server error
        ("acl_setuser", (alice,), dict(keys=[None])),
        ("acl_setuser", (alice,), dict(commands=["+nosuchcommand"])),
        (_drop_users,),
    ])


def test_acl_list_users_whoami_deluser(diff, acl_cleanup):
    alice, bob, uni = USERS
    _seq(diff, [
        (_drop_users,),
        ("acl_setuser", (alice,), dict(enabled=True, nopass=True, keys="a:*")),
        ("acl_setuser", (bob,), dict(passwords="+secret")),
        ("acl_list", ()),
        ("acl_users", ()),
        ("acl_whoami", ()),
        ("acl_deluser", (alice,)),
        ("acl_deluser", (alice, bob, "rn-acl-nobody")),
        ("acl_deluser", ()),  # wrong number of args
        ("acl_deluser", ("default",)),  # cannot delete default
        ("acl_users", ()),
    ])


def test_acl_cat_genpass_help(diff):
    diff("acl_cat")
    diff("acl_cat", "read")
    diff("acl_cat", category="keyspace")
    diff("acl_cat", "nosuchcategory")
    diff.shape("acl_genpass")
    diff.apply(lambda c: len(c.acl_genpass()))
    diff.apply(lambda c: len(c.acl_genpass(32)))
    diff.apply(lambda c: len(c.acl_genpass(bits=5)))
    diff.apply(lambda c: len(c.acl_genpass("128")))
    diff.apply(lambda c: set(c.acl_genpass()) <= set("0123456789abcdef"))
    diff("acl_genpass", 0)
    diff("acl_genpass", -1)  # DataError
    diff("acl_genpass", 5000)  # DataError
    diff("acl_genpass", "x")  # DataError
    diff("acl_help")


def test_acl_log(diff, redis_server, acl_cleanup):
    alice = USERS[0]
    masked = mask({"age-seconds", "timestamp-created", "timestamp-last-updated", "client-info",
                   "entry-id"})

    def provoke(c):
        """One failed AUTH and one denied command."""
        module = _module_of(c)
        bad = module.Redis(host=redis_server.host, port=redis_server.port, username=alice,
                           password="wrong", retry=_no_retry(module))
        try:
            run = __import__("diffutil").run_call
            r1 = run(bad, "ping")
        finally:
            bad.close()
        ok = module.Redis(host=redis_server.host, port=redis_server.port, username=alice,
                          password="pw", decode_responses=c.get_encoder().decode_responses)
        try:
            r2 = __import__("diffutil").run_call(ok, "get", ("forbidden:key",))
            r3 = __import__("diffutil").run_call(ok, "acl_whoami")
        finally:
            ok.close()
        return [r1, r2, r3]

    _seq(diff, [
        (_drop_users,),
        ("acl_log_reset", ()),
        ("acl_log", ()),
        ("acl_setuser", (alice,), dict(enabled=True, passwords="+pw", commands=["+get", "+acl|whoami"],
                                       keys="allowed:*")),
        (provoke,),
        ("acl_log", ()),
        ("acl_log", (1,)),
        ("acl_log", (), {"count": 10}),
        ("acl_log", ("1",)),  # DataError
        ("acl_log_reset", ()),
        ("acl_log", ()),
        (_drop_users,),
    ], how=masked)
    # the shape of an entry, incl. the masked fields
    diff.apply(lambda c: (c.acl_log_reset(), provoke_shape(c, redis_server, alice))[1])


def provoke_shape(c, redis_server, user):
    module = _module_of(c)
    c.acl_setuser(user, enabled=True, passwords="+pw", commands=["+ping"])
    bad = module.Redis(host=redis_server.host, port=redis_server.port, username=user, password="pw",
                       retry=_no_retry(module))
    try:
        try:
            bad.get("x")
        except Exception:
            pass
    finally:
        bad.close()
    entries = c.acl_log()
    c.acl_deluser(user)
    c.acl_log_reset()
    return shape(entries)


def test_acl_dryrun(diff, acl_cleanup):
    alice = USERS[0]
    _seq(diff, [
        (_drop_users,),
        ("acl_setuser", (alice,), dict(enabled=True, nopass=True, commands=["+get"], keys="k:*")),
        ("acl_dryrun", (alice, "get", "k:1")),
        ("acl_dryrun", (alice, "get", "other")),
        ("acl_dryrun", (alice, "set", "k:1", "v")),
        ("acl_dryrun", (alice, "nosuchcmd")),
        ("acl_dryrun", ("rn-acl-nobody", "get", "x")),
        ("acl_dryrun", (alice,)),
        (_drop_users,),
    ])


def test_acl_save_load_without_aclfile(diff):
    diff("acl_save")  # no ACL file configured: error
    diff("acl_load")


# =====================================================================================
# CLIENT
# =====================================================================================
def test_client_id_info_list_shapes(diff):
    diff.shape("client_id")
    diff.shape("client_info")
    diff.apply(lambda c: sorted(c.client_info()))
    diff.apply(lambda c: sorted(c.client_list(client_id=[c.client_id()])[0]))
    diff.apply(lambda c: c.client_info()["cmd"])
    diff.apply(lambda c: c.client_info()["name"])
    for t in ("normal", "NORMAL", "master", "replica", "pubsub"):
        diff.apply(lambda c, t=t: [type(x).__name__ for x in c.client_list(_type=t)][:1])
    diff("client_list", _type="slave")  # DataError (client_list says "replica")
    diff.apply(lambda c: type(c.client_list(client_id=[])).__name__)
    diff.apply(lambda c: len(c.client_list(client_id=[c.client_id(), 999999999])))
    diff.apply(lambda c: len(c.client_list(client_id=[str(c.client_id())])))


def test_client_name_unicode_non_utf8(diff):
    diff("client_setname", "n-" + UNICODE)
    diff("client_getname")
    diff.apply(lambda c: c.client_info()["name"])
    diff.apply(lambda c: [e["name"] for e in c.client_list(client_id=[c.client_id()])])
    diff("client_setname", NON_UTF8)
    diff("client_getname")
    diff("client_setname", None)  # DataError


def test_client_kill(diff, redis_server):
    def kill_victim(c):
        module = _module_of(c)
        victim = module.Redis(host=redis_server.host, port=redis_server.port)
        try:
            victim.client_setname("rn-victim")
            vid = victim.client_id()
            addr = [e["addr"] for e in c.client_list() if e["id"] == str(vid)][0]
            out = [c.client_kill(addr)]
            out.append(diffutil.run_call(c, "client_kill", (addr,)))  # already gone
            out.append(any(e["name"] == "rn-victim" for e in c.client_list()))
            return out
        finally:
            victim.close()

    diff.apply(kill_victim)
    diff("client_kill", "1.2.3.4:5")
    diff("client_kill", "garbage")


def test_client_kill_filter(diff, redis_server):
    def run(c, **filters):
        module = _module_of(c)
        victim = module.Redis(host=redis_server.host, port=redis_server.port)
        try:
            victim.client_setname("rn-victim2")
            vid = victim.client_id()
            info = [e for e in c.client_list() if e["id"] == str(vid)][0]
            kw = {}
            for k, v in filters.items():
                kw[k] = {"$id": vid, "$addr": info["addr"], "$laddr": info["laddr"]}.get(v, v)
            res = c.client_kill_filter(**kw)
            return [res, any(e["id"] == str(vid) for e in c.client_list())]
        finally:
            victim.close()

    diff.apply(lambda c: run(c, _id="$id"))
    diff.apply(lambda c: run(c, addr="$addr"))
    diff.apply(lambda c: run(c, _id="$id", _type="normal", skipme=True))
    diff.apply(lambda c: run(c, _id="$id", skipme=False))
    diff.apply(lambda c: run(c, _id="$id", laddr="$laddr"))
    diff.apply(lambda c: run(c, _id="$id", user="default"))
    diff.apply(lambda c: run(c, _id="$id", maxage=3600))  # too young: not killed
    diff.apply(lambda c: run(c, _id="$id", user="rn-nobody"))
    diff("client_kill_filter")  # DataError: no filter
    diff("client_kill_filter", _type="bogus")  # DataError
    diff("client_kill_filter", _type="replica")  # DataError: kill says "slave"
    diff("client_kill_filter", skipme="yes")  # DataError
    diff("client_kill_filter", _id="notanumber")
    diff("client_kill_filter", _type="pubsub")


def test_client_pause_unpause(diff):
    diff("client_pause", 1)
    diff("client_pause", 1, all=False)
    diff("client_unpause")
    diff("client_pause", "100")  # DataError
    diff("client_pause", 1.5)  # DataError
    diff("client_pause", -1)
    diff("client_unpause")


def test_client_pause_blocks_writes(diff, redis_server):
    """While paused (WRITE), a write from another connection waits for the pause."""

    def run(c):
        module = _module_of(c)
        other = module.Redis(host=redis_server.host, port=redis_server.port, db=9,
                             socket_timeout=30)
        try:
            c.client_pause(300, all=False)
            t0 = time.monotonic()
            other.set("rn-paused", "1")
            waited = time.monotonic() - t0
            other.delete("rn-paused")
            return waited > 0.1
        finally:
            c.client_unpause()
            other.close()

    diff.apply(run)


def test_client_no_evict_and_reply(diff):
    diff("client_no_evict", "ON")
    diff("client_no_evict", "off")
    diff("client_no_evict", "maybe")
    diff("client_reply", "ON")
    diff("client_reply", "on")  # DataError (case-sensitive)
    diff("client_reply", "NEVER")  # DataError


def test_client_reply_off_skip_wire(wire):
    wire(lambda c: c.client_reply("OFF"))
    wire(lambda c: c.client_reply("SKIP"))


def test_client_tracking(diff):
    seq = [
        ("client_trackinginfo", ()),
        ("client_tracking_on", ()),
        ("client_trackinginfo", ()),
        ("client_tracking_off", ()),
        ("client_tracking", (True,), dict(bcast=True, prefix=["rn:", b"x:"])),
        ("client_trackinginfo", ()),
        ("client_tracking", (False,)),
        ("client_tracking_on", (), dict(prefix=["p:"], bcast=True, noloop=True)),
        ("client_trackinginfo", ()),
        ("client_tracking_off", ()),
        ("client_tracking", (True,), dict(optin=True)),
        ("client_trackinginfo", ()),
        ("client_tracking", (False,)),
        ("client_tracking", (True,), dict(optout=True, noloop=True)),
        ("client_trackinginfo", ()),
        ("client_tracking", (False,)),
        ("client_tracking", (True,), dict(optin=True, optout=True)),  # server error
        ("client_tracking", (True,), dict(prefix=["p:"])),  # DataError: prefix without bcast
        ("client_tracking", (True,), dict(clientid=999999999)),  # no such client
        ("client_tracking_on", (), dict(clientid=999999999)),
        ("client_getredir", ()),
        ("client_tracking", (False,)),
    ]
    for name, args, *kw in seq:
        diff(name, *args, **(kw[0] if kw else {}))


def test_client_tracking_redirect(diff, redis_server):
    def run(c):
        module = _module_of(c)
        target = module.Redis(host=redis_server.host, port=redis_server.port)
        try:
            tid = target.client_id()
            out = [c.client_tracking_on(clientid=tid)]
            out.append(c.client_getredir() == tid)
            info = c.client_trackinginfo()
            out.append(sorted(info) if isinstance(info, dict) else len(info))
            out.append(c.client_tracking_off())
            out.append(c.client_getredir())
            return out
        finally:
            target.close()

    diff.apply(run)


def test_client_unblock(diff, redis_server):
    def run(c, error):
        module = _module_of(c)
        blocked = module.Redis(host=redis_server.host, port=redis_server.port, db=9, socket_timeout=30)
        box = {}
        try:
            bid = blocked.client_id()
            t = threading.Thread(target=lambda: box.setdefault(
                "r", diffutil.run_call(blocked, "blpop", (["rn-never"], 20))))
            t.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if any(e["id"] == str(bid) and e["cmd"] == "blpop" for e in c.client_list()):
                    break
                time.sleep(0.02)
            res = c.client_unblock(bid, error=error)
            t.join(20)
            return [res, box.get("r"), c.client_unblock(bid)]
        finally:
            blocked.close()

    diff.apply(lambda c: run(c, False))
    diff.apply(lambda c: run(c, True))
    diff("client_unblock", 999999999)
    diff("client_unblock", "12x")  # ValueError from int()


def test_client_new_commands_wire(wire):
    """Redis >= 7.2 commands: compared on the wire."""
    wire(lambda c: c.client_no_touch("ON"))
    wire(lambda c: c.client_no_touch("OFF"))
    wire(lambda c: c.client_setinfo("LIB-NAME", "mylib"))
    wire(lambda c: c.client_setinfo("lib-ver", "1.2.3"))
    wire(lambda c: c.waitaof(1, 0, 100))
    wire(lambda c: c.client_kill_filter(_id=5, maxage=10, laddr="1.2.3.4:5", user="u"))
    wire(lambda c: c.client_kill_filter(_type="master", skipme=False))
    wire(lambda c: c.client_list(_type="pubsub", client_id=[1, "2"]))
    wire(lambda c: c.client_tracking(True, clientid=3, prefix=["a", "b"], bcast=True, optin=True,
                                     optout=True, noloop=True))
    wire(lambda c: c.client_pause(10, all=False))
    wire(lambda c: c.client_unblock(5, error=True))


def test_hotkeys_wire(wire):
    def metrics(c):
        import importlib

        return importlib.import_module(type(c).__module__.split(".")[0] + ".commands.core").HotkeysMetricsTypes

    wire(lambda c: c.hotkeys_start([metrics(c).CPU]))
    wire(lambda c: c.hotkeys_start(list(metrics(c)), count=10, duration=5, sample_ratio=2,
                                   slots=[1, 2, 3]))
    wire(lambda c: c.hotkeys_stop())
    wire(lambda c: c.hotkeys_reset())
    wire(lambda c: c.hotkeys_get())


# =====================================================================================
# CONFIG / DEBUG / MEMORY / LATENCY / SLOWLOG / MODULE
# =====================================================================================
@pytest.fixture
def config_restore(redis_server):
    import redis

    c = redis.Redis(host=redis_server.host, port=redis_server.port, decode_responses=True)
    saved = c.config_get("*")
    yield
    for name in ("maxmemory", "slowlog-log-slower-than", "slowlog-max-len", "latency-monitor-threshold",
                 "maxmemory-policy", "hz", "notify-keyspace-events"):
        if name in saved:
            c.config_set(name, saved[name])
    c.close()


def test_config_get_set(diff, config_restore):
    diff("config_get", "maxmemory")
    diff("config_get", "maxmemory*")
    diff("config_get", "maxmemory", "hz", "port-nonexistent")
    diff("config_get", "nosuch*")
    diff.apply(lambda c: sorted(c.config_get()) == sorted(c.config_get("*")))
    diff.apply(lambda c: len(c.config_get()) > 100)
    diff("config_set", "maxmemory", 104857600)
    diff("config_get", "maxmemory")
    diff("config_set", "maxmemory", "100mb")
    diff("config_get", "maxmemory")
    diff("config_set", "hz", 11, "maxmemory", 0)
    diff("config_get", "hz", "maxmemory")
    diff("config_set", "maxmemory-policy", "allkeys-lru")
    diff("config_set", "notify-keyspace-events", "")
    diff("config_set", "no-such-option", 1)
    diff("config_set", "hz", "not-a-number")
    diff("config_set", "maxmemory")  # TypeError: missing value
    diff("config_set", "hz", None)  # DataError
    diff("config_resetstat")
    diff("config_rewrite")  # no config file: error


def test_config_get_decoding(diff):
    # values are bytes without decode_responses, str with
    diff("config_get", "dir")
    diff("config_get", "save")
    diff("config_get", "bind")


def test_debug_object(diff):
    diff("set", "k", "v")
    diff.cmp(mask({"lru_seconds_idle", "lru", "at"}), "debug_object", "k")
    diff.apply(lambda c: sorted(c.debug_object("k")))
    diff("rpush", "l", *range(10))
    diff.cmp(mask({"lru_seconds_idle", "lru", "at"}), "debug_object", "l")
    diff("debug_object", "nope")


def test_object(diff):
    diff("set", "int", 123)
    diff("set", "str", "hello")
    diff("set", "long", "x" * 100)
    diff("rpush", "list", 1)
    diff("object", "encoding", "int")
    diff("object", "ENCODING", "str")
    diff("object", "encoding", "long")
    diff("object", "encoding", "list")
    diff.shape("object", "refcount", "int")
    diff.shape("object", "idletime", "str")
    diff("object", "freq", "str")  # needs an LFU policy: error
    diff("object", "encoding", "nope")
    diff("object", "bogus", "str")


def test_memory(diff):
    diff("set", "k", "v" * 100)
    diff.shape("memory_usage", "k")
    diff.apply(lambda c: c.memory_usage("k") > 100)
    diff.shape("memory_usage", "k", samples=0)
    diff.shape("memory_usage", "k", samples=5)
    diff("memory_usage", "nope")
    diff.shape("memory_usage", "k", samples="5")  # not an int: SAMPLES dropped
    diff.loose_shape("memory_stats")
    diff.apply(lambda c: sorted(c.memory_stats()))
    diff.apply(lambda c: type(c.memory_stats().get("db.1", c.memory_stats().get("db.2"))).__name__)
    diff("memory_doctor")  # NotImplementedError
    diff("memory_help")  # NotImplementedError
    diff.shape("memory_malloc_stats")
    diff("memory_purge")


def test_latency(diff, config_restore):
    diff("latency_reset")
    diff("latency_latest")
    diff("latency_history", "command")
    diff("config_set", "latency-monitor-threshold", 1)
    diff.apply(lambda c: c.execute_command("DEBUG", "SLEEP", 0.02))
    diff.cmp(lambda x: [(e[0], type(e[1]).__name__, type(e[2]).__name__, type(e[3]).__name__)
                        for e in x], "latency_latest")
    diff.cmp(lambda x: [(type(e[0]).__name__, type(e[1]).__name__) for e in x][:1],
             "latency_history", "command")
    diff.shape("latency_reset", "command")
    diff("latency_reset", "command", "fork")
    diff("latency_reset")
    diff("latency_doctor")  # NotImplementedError
    diff("latency_graph")  # NotImplementedError
    diff("latency_histogram")  # NotImplementedError
    diff("latency_history", "no-such-event")


def test_slowlog(diff, config_restore):
    def scenario(c):
        c.config_set("slowlog-log-slower-than", 0)
        c.slowlog_reset()
        c.set("slow-key", NON_UTF8)
        c.get("slow-key")
        entries = c.slowlog_get(3)
        length = c.slowlog_len()
        c.config_set("slowlog-log-slower-than", 10000)
        c.slowlog_reset()
        out = {"len": length >= 3, "shape": shape(entries)}
        out["commands"] = [e["command"] for e in entries]
        out["keys"] = [sorted(e) for e in entries]
        out["types"] = [(type(e["id"]).__name__, type(e["start_time"]).__name__,
                         type(e["duration"]).__name__) for e in entries]
        out["client"] = [(type(e.get("client_address")).__name__, e.get("client_name")) for e in entries]
        return out

    diff.apply(scenario)
    # anything slower than 10 ms anywhere on the shared server may be logged: shapes only
    diff("slowlog_reset")
    diff.shape("slowlog_len")
    diff.apply(lambda c: type(c.slowlog_get()).__name__)
    diff("slowlog_get", 0)
    diff.apply(lambda c: type(c.slowlog_get(-1)).__name__)
    diff("slowlog_get", "x")


def test_module_commands(diff):
    diff("module_list")
    diff("module_load", "/nonexistent/module.so")
    diff("module_load", "/nonexistent/module.so", "arg1", 2)
    diff("module_loadex", "/nonexistent/module.so")
    diff("module_loadex", "/nonexistent/module.so", options=["a", "1"], args=["x"])
    diff("module_unload", "nosuchmodule")


# =====================================================================================
# COMMAND
# =====================================================================================
def test_command_table(diff):
    diff("command_count")
    diff.apply(lambda c: len(c.command()) == c.command_count())
    diff.apply(lambda c: sorted(c.command())[:20])
    diff.apply(lambda c: c.command()["get"])
    diff.apply(lambda c: c.command()["set"])
    diff.apply(lambda c: c.command()["client"])
    diff.apply(lambda c: c.command()["xreadgroup"])
    diff.apply(lambda c: shape(c.command()["zadd"]))
    diff("command_info")  # NotImplementedError
    diff("command_docs", "get")  # NotImplementedError


def test_command_getkeys_list(diff):
    diff("command_getkeys", "MSET", "a", "1", "b", "2")
    diff("command_getkeys", "EVAL", "return 1", 2, "k1", "k2", "arg")
    diff("command_getkeys", "SORT", "k", "STORE", "dst")
    diff("command_getkeys", "GET")
    diff("command_getkeys", "PING")  # no key arguments: error
    diff("command_getkeys", "NOSUCH", "x")
    diff("command_getkeysandflags", "LMOVE", "a", "b", "LEFT", "RIGHT")
    diff("command_getkeysandflags", "SET", "k", "v")
    diff.apply(lambda c: sorted(c.command_list())[:30])
    diff.apply(lambda c: len(c.command_list()) > 200)
    diff.cmp(sorted, "command_list", category="hyperloglog")
    diff.cmp(sorted, "command_list", pattern="x*")
    diff("command_list", module="nosuchmodule")
    diff("command_list", category="nosuchcat")
    diff("command_list", category="read", pattern="z*")  # two filters: server error


# =====================================================================================
# SERVER INFO / MISC
# =====================================================================================
def test_info(diff):
    diff.loose_shape("info")
    diff.apply(lambda c: sorted(k for k in c.info() if not k.startswith("db")))
    for section in ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                    "modules", "errorstats", "cluster", "keyspace", "commandstats", "latencystats"):
        diff.apply(lambda c, s=section: sorted(k for k in c.info(s) if not k.startswith("db")))
    diff.apply(lambda c: sorted(c.info("all")) == sorted(c.info("everything")))
    diff.apply(lambda c: sorted(k for k in c.info("default") if not k.startswith("db")))
    diff.apply(lambda c: sorted(k for k in c.info("server", "clients")))
    diff("info", "nosuchsection")
    diff.apply(lambda c: c.info("server")["redis_version"])
    diff.apply(lambda c: type(c.info("server")["redis_version"]).__name__)
    diff.apply(lambda c: type(c.info("server")["tcp_port"]).__name__)
    diff.apply(lambda c: c.info("server")["redis_mode"])
    diff.apply(lambda c: {k: type(v).__name__ for k, v in c.info("server").items()})
    diff.apply(lambda c: {k: type(v).__name__ for k, v in c.info("memory").items()})


def test_info_keyspace_and_commandstats(diff):
    diff("set", "k", "v")
    diff("expire", "k", 100)
    diff.apply(lambda c: {k: sorted(v) for k, v in c.info("keyspace").items()})
    diff.apply(lambda c: c.info("keyspace")["db%d" % c.connection_pool.connection_kwargs["db"]]["keys"])
    diff.apply(lambda c: sorted(c.info("commandstats")["cmdstat_set"]))
    diff.apply(lambda c: {k: type(v).__name__ for k, v in c.info("commandstats")["cmdstat_set"].items()})
    diff.apply(lambda c: sorted(c.info("errorstats")) == sorted(c.info("errorstats")))
    diff.apply(lambda c: sorted(c.info("latencystats"))[:3])


def test_lolwut_role_time_lastsave(diff):
    diff.shape("lolwut")
    diff.shape("lolwut", 5)
    diff.shape("lolwut", 6, 10, 10)
    diff.apply(lambda c: "Redis ver." in (lambda x: x.decode() if isinstance(x, bytes) else x)(c.lolwut()))
    diff("role")
    diff.shape("time")
    diff.apply(lambda c: abs(c.time()[0] - time.time()) < 60)
    diff.shape("lastsave")
    diff.apply(lambda c: type(c.lastsave()).__name__)
    diff("dbsize")
    diff("set", "a", 1)
    diff("dbsize")
    diff("wait", 0, 10)
    diff("wait", 1, 10)  # no replicas: times out with 0
    diff("wait", "x", 10)


def test_save_and_replicaof_noop(diff):
    diff("save")
    diff.apply(lambda c: type(c.lastsave()).__name__)
    diff("replicaof", "NO", "ONE")
    diff("slaveof")  # no arguments: SLAVEOF NO ONE
    diff("replicaof")  # TypeError


def test_swapdb(diff, redis_server):
    """SWAPDB is global: each side swaps two scratch dbs and swaps them back."""

    def run(c):
        import redis

        a = redis.Redis(host=redis_server.host, port=redis_server.port, db=7)
        b = redis.Redis(host=redis_server.host, port=redis_server.port, db=8)
        try:
            a.flushdb()
            b.flushdb()
            a.set("in7", "x")
            r1 = c.swapdb(7, 8)
            where = (a.exists("in7"), b.exists("in7"))
            r2 = c.swapdb(8, 7)
            return [r1, where, r2, a.exists("in7")]
        finally:
            a.flushdb()
            a.close()
            b.close()

    diff.apply(run)
    diff("swapdb", 7, 7)
    diff("swapdb", 0, 9999)
    diff("swapdb", "a", 1)


def test_not_implemented_commands(diff):
    diff("failover")
    diff("hello")
    diff("command_docs")
    diff("latency_histogram", "get")


def test_dangerous_commands_wire(wire):
    """Commands that must not reach the real server here: compared on the wire."""
    wire(lambda c: c.debug_segfault())
    wire(lambda c: c.shutdown(nosave=True))
    wire(lambda c: c.shutdown(save=True, now=True, force=True, abort=False))
    wire(lambda c: c.shutdown(abort=True))
    wire(lambda c: c.shutdown(save=True, nosave=True))
    wire(lambda c: c.bgsave(schedule=True))
    wire(lambda c: c.bgsave(schedule=False))
    wire(lambda c: c.bgrewriteaof())
    wire(lambda c: c.flushall(asynchronous=True))
    wire(lambda c: c.flushdb(asynchronous=True))
    wire(lambda c: c.replicaof("127.0.0.1", 1))
    wire(lambda c: c.slaveof("127.0.0.1", 1))
    wire(lambda c: c.sync())
    wire(lambda c: c.psync("?", -1))
    wire(lambda c: c.quit())
    wire(lambda c: c.reset())
    wire(lambda c: c.failover())


def test_admin_wire(wire):
    wire(lambda c: c.acl_setuser("u", enabled=True, nopass=False, passwords=["+a", "-b"],
                                 hashed_passwords=["+" + "c" * 64], categories=["+@all", "-@admin"],
                                 commands=["+get", "-set"], keys=["k*", "%R~r*"], channels=["ch*"],
                                 selectors=[("+get", "s*")], reset=True, reset_keys=True,
                                 reset_channels=True, reset_passwords=True))
    wire(lambda c: c.acl_log(5))
    wire(lambda c: c.acl_genpass(64))
    wire(lambda c: c.acl_dryrun("u", "get", "k"))
    wire(lambda c: c.config_get("a", "b"))
    wire(lambda c: c.config_set("a", 1, "b", 2.5))
    wire(lambda c: c.memory_usage("k", samples=3))
    wire(lambda c: c.latency_reset("a", "b"))
    wire(lambda c: c.latency_history("command"))
    wire(lambda c: c.slowlog_get(5))
    wire(lambda c: c.module_load("/x.so", "a", 1))
    wire(lambda c: c.module_loadex("/x.so", options=["o", "v"], args=["a"]))
    wire(lambda c: c.command_list(module="m", category="c", pattern="p"))
    wire(lambda c: c.command_getkeys("SET", "k", "v"))
    wire(lambda c: c.info("server", "clients"))
    wire(lambda c: c.lolwut(5, 1, 2))
    wire(lambda c: c.object("encoding", "k"))
    wire(lambda c: c.swapdb(1, 2))
    wire(lambda c: c.wait(1, 100))
    wire(lambda c: c.debug_object("k"))
    wire(lambda c: c.client_kill("1.2.3.4:5"))


def test_python_level_argument_errors(diff):
    """Wrong argument *types* fail the same way (exception class) as in redis-py."""
    diff("acl_setuser", None)
    diff("acl_setuser", "rn-acl-x", passwords=5)
    diff("acl_setuser", "rn-acl-x", categories="+@read")  # a string is iterated
    diff("acl_setuser", "rn-acl-x", selectors=["+get"])
    diff("acl_getuser", None)
    diff("acl_deluser", ["a", "b"])
    diff("acl_cat", 5)
    diff("acl_log", count=1.5)
    diff("acl_dryrun", None, "get")
    diff("client_kill", None)
    diff("client_kill_filter", _id=None, addr=None)  # nothing given
    diff("client_kill_filter", maxage="x")
    diff("client_list", _type=5)
    diff("client_list", client_id=(1, 2))
    diff("client_setname", 5)
    diff("client_pause", None)
    diff("client_no_evict", None)
    diff("client_tracking", True, prefix="ab", bcast=True)  # a string is iterated
    diff("client_tracking", True, clientid="x")
    diff("client_unblock", None)
    diff("config_get", None)
    diff("config_set", None, 1)
    diff("debug_object", None)
    diff("memory_usage", None)
    diff("object", None, "k")
    diff("object", "encoding", None)
    diff("info", 5)
    diff.loose_shape("info", None, "server")  # section None: plain INFO
    diff("lolwut", "x")
    diff("swapdb", None, 1)
    diff("wait", None, 10)
    diff("slowlog_get", 1.5)
    diff("latency_history", None)
    diff("command_getkeys")
    diff("command_list", category=5)
    diff("module_loadex", "/x.so", options="ab")
    diff("module_unload", None)


def test_execute_command_response_callbacks(diff):
    """Raw execute_command picks redis-py's callback by the *first* argument:
    "ACL GETUSER" as one string is parsed, "ACL", "GETUSER" as two is not."""
    diff.setup(lambda c: c.xadd("s", {"f": "v"}, id="1-0"))
    diff.setup(lambda c: c.geoadd("g", [13.361389, 38.115556, "Palermo"]))
    diff.setup(lambda c: c.pfadd("h", "a"))
    for args in [
        ("XRANGE", "s", "-", "+"),
        ("XREAD", "STREAMS", "s", "0"),
        ("XINFO STREAM", "s"),
        ("XINFO", "STREAM", "s"),
        ("XLEN", "s"),
        ("GEOPOS", "g", "Palermo", "nope"),
        ("GEODIST", "g", "Palermo", "Palermo"),
        ("GEORADIUS", "g", 15, 37, 200, "km", "WITHDIST"),
        ("GEOSEARCH", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "WITHCOORD"),
        ("PFCOUNT", "h"),
        ("PFADD", "h", "b"),
        ("ACL GETUSER", "default"),
        ("ACL", "GETUSER", "default"),
        ("ACL CAT",),
        ("ACL WHOAMI",),
        ("CONFIG GET", "maxmemory"),
        ("CONFIG", "GET", "maxmemory"),
        ("CONFIG SET", "hz", 10),
        ("SCRIPT EXISTS", "0" * 40),
        ("SCRIPT", "EXISTS", "0" * 40),
        ("FUNCTION LIST",),
        ("ROLE",),
        ("COMMAND COUNT",),
        ("COMMAND GETKEYS", "GET", "k"),
        ("PUBSUB NUMSUB", "nochannel"),
        ("PUBSUB", "NUMSUB", "nochannel"),
        ("PUBSUB NUMPAT",),
        ("OBJECT", "ENCODING", "h"),
        ("DEBUG OBJECT", "h"),
        ("MEMORY USAGE", "h"),
        ("CLIENT GETNAME",),
        ("CLIENT SETNAME", "rn-exec"),
        ("CLIENT NO-EVICT", "off"),
        ("SLOWLOG LEN",),
        ("LATENCY LATEST",),
        ("MODULE LIST",),
        ("LASTSAVE",),
        ("WAIT", 0, 1),
    ]:
        diff.cmp(mask({"lru_seconds_idle", "lru"}), "execute_command", *args)
    diff.shape("execute_command", "TIME")
    diff.shape("execute_command", "CLIENT INFO")
    diff.shape("execute_command", "CLIENT ID")
    diff.apply(lambda c: shape(c.execute_command("CLIENT LIST")[0]))
    diff.apply(lambda c: shape(c.execute_command("CLIENT", "LIST")))
    diff.loose_shape("execute_command", "INFO", "server")
    diff.loose_shape("execute_command", "MEMORY STATS")
    diff.apply(lambda c: shape(c.execute_command("SLOWLOG GET", 1)))
    diff.apply(lambda c: type(c.execute_command("ACL LOG")).__name__)
    diff.apply(lambda c: shape(c.execute_command("COMMAND")["get"]))


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_admin_in_pipeline(diff, transaction):
    """Reply callbacks of admin commands inside pipelines and MULTI/EXEC."""

    def run(c):
        p = c.pipeline(transaction=transaction)
        p.set("k", "v")
        p.config_get("maxmemory")
        p.acl_cat("hyperloglog")
        p.acl_getuser("default")
        p.acl_whoami()
        p.client_getname()
        p.client_no_evict("off")
        p.command_count()
        p.command_getkeys("MSET", "a", 1, "b", 2)
        p.object("encoding", "k")
        p.role()
        p.dbsize()
        p.script_exists("0" * 40)
        res = p.execute()
        q = c.pipeline(transaction=transaction)
        q.time()
        q.lastsave()
        q.client_id()
        q.client_info()
        q.info("server")
        q.memory_stats()
        q.slowlog_get(1)
        q.debug_object("k")
        q.client_list()
        shapes = [type(x).__name__ for x in q.execute()]
        return [res, shapes]

    diff.apply(run)
