"""Response callbacks for RESP2 replies.

Every callback takes the raw reply (as built by the C reader: ``bytes`` or
``str`` strings depending on ``decode_responses``, ``int``, ``list``, ``None``)
and, for most of them, the keyword options the command method passed to
``execute_command``.  It returns the Python value redis-py 7.4 returns for the
same command, so that ``redis_native`` is a drop-in replacement.

The client builds its callback table as::

    CaseInsensitiveDict(_RedisCallbacks).update(_RedisCallbacksRESP2)

Callbacks that accept no options on purpose (``PING``, ``SMEMBERS``...) mirror
redis-py, where passing an unexpected option to them raises ``TypeError``.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

__all__ = [
    "str_if_bytes",
    "timestamp_to_datetime",
    "parse_debug_object",
    "parse_info",
    "parse_memory_stats",
    "SENTINEL_STATE_TYPES",
    "parse_sentinel_state",
    "parse_sentinel_master",
    "parse_sentinel_masters",
    "parse_sentinel_slaves_and_sentinels",
    "parse_sentinel_get_master",
    "pairs_to_dict",
    "pairs_to_dict_typed",
    "zset_score_pairs",
    "zset_score_for_rank",
    "sort_return_tuples",
    "parse_stream_list",
    "pairs_to_dict_with_str_keys",
    "parse_list_of_dicts",
    "parse_xclaim",
    "parse_xautoclaim",
    "parse_xinfo_stream",
    "parse_xread",
    "parse_xpending",
    "parse_xpending_range",
    "float_or_none",
    "bool_ok",
    "parse_zadd",
    "parse_client_list",
    "parse_config_get",
    "parse_scan",
    "parse_hscan",
    "parse_zscan",
    "parse_zmscore",
    "parse_slowlog_get",
    "parse_stralgo",
    "parse_cluster_info",
    "parse_cluster_nodes",
    "parse_geosearch_generic",
    "parse_command",
    "parse_pubsub_numsub",
    "parse_client_kill",
    "parse_acl_getuser",
    "parse_acl_log",
    "parse_client_info",
    "parse_set_result",
    "string_keys_to_dict",
    "_RedisCallbacks",
    "_RedisCallbacksRESP2",
]


# --------------------------------------------------------------------------
# small building blocks
# --------------------------------------------------------------------------


def str_if_bytes(value: Any) -> Any:
    """Decode ``bytes`` as UTF-8 (bad bytes become U+FFFD); return anything
    else unchanged.  Callbacks use it for server-generated text such as
    status replies and INFO, independently of the client's own encoding."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def string_keys_to_dict(key_string: str, callback: Callable) -> Dict[str, Callable]:
    """Map every whitespace-separated command name in ``key_string`` to
    ``callback``."""
    return {name: callback for name in key_string.split()}


def pairs_to_dict(
    response: Optional[Iterable[Any]],
    decode_keys: bool = False,
    decode_string_values: bool = False,
) -> Dict[Any, Any]:
    """Turn a flat ``[k1, v1, k2, v2, ...]`` reply into ``{k1: v1, ...}``.

    ``decode_keys`` / ``decode_string_values`` pass the keys / values through
    :func:`str_if_bytes`.  A ``None`` reply gives an empty dict.
    """
    if response is None:
        return {}
    if not (decode_keys or decode_string_values):
        stream = iter(response)
        return dict(zip(stream, stream))
    keys = response[::2]
    values = response[1::2]
    if decode_keys:
        keys = [str_if_bytes(k) for k in keys]
    if decode_string_values:
        values = [str_if_bytes(v) for v in values]
    return dict(zip(keys, values))


def pairs_to_dict_typed(
    response: Iterable[Any], type_info: Mapping[Any, Callable]
) -> Dict[Any, Any]:
    """Like :func:`pairs_to_dict` on any iterable, converting the value of
    each key listed in ``type_info`` with its converter; a value the
    converter rejects is kept as it is."""
    result = {}
    stream = iter(response)
    for key, value in zip(stream, stream):
        if key in type_info:
            try:
                value = type_info[key](value)
            except Exception:
                pass
        result[key] = value
    return result


def pairs_to_dict_with_str_keys(response: Optional[List[Any]]) -> Dict[str, Any]:
    """:func:`pairs_to_dict` with the keys decoded to ``str``."""
    return pairs_to_dict(response, decode_keys=True)


def parse_list_of_dicts(response: List[List[Any]]) -> List[Dict[str, Any]]:
    """A list of flat key/value lists -> a list of dicts with ``str`` keys."""
    return [pairs_to_dict_with_str_keys(item) for item in response]


def float_or_none(response: Any) -> Optional[float]:
    """``float(response)``, or ``None`` for a nil reply."""
    return None if response is None else float(response)


def bool_ok(response: Any, **options: Any) -> bool:
    """True when the server answered the status reply ``OK``."""
    return str_if_bytes(response) == "OK"


def timestamp_to_datetime(response: Any) -> Optional[datetime.datetime]:
    """A Unix timestamp reply -> local ``datetime``; ``None`` when the reply
    is empty, zero or not an integer."""
    if not response:
        return None
    try:
        seconds = int(response)
    except ValueError:
        return None
    return datetime.datetime.fromtimestamp(seconds)


# --------------------------------------------------------------------------
# server / connection introspection
# --------------------------------------------------------------------------


def _info_value(text: str) -> Any:
    """Convert one INFO value.

    ``a=1,b=x`` becomes a dict (a bare word inside it maps to True), ``a,b``
    a list, and a lone token an int or float when it parses as one.
    """
    if "=" in text:
        section: Dict[str, Any] = {}
        for item in text.split(","):
            if not item:
                continue
            if "=" in item:
                name, _, raw = item.rpartition("=")
                section[name] = _info_value(raw)
            else:
                section[item] = True
        return section
    if "," in text:
        return [_info_value(part) for part in text.split(",") if part]
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def parse_info(response: Any) -> Dict[str, Any]:
    """Parse an INFO reply into a dict.

    ``# Section`` headers and blank lines are skipped; ``key:value`` lines
    are converted with :func:`_info_value`.  Every ``module:`` line is
    collected in the ``modules`` list, and lines without a colon end up in
    ``__raw__``.
    """
    info: Dict[str, Any] = {}
    for line in str_if_bytes(response).splitlines():
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            info.setdefault("__raw__", []).append(line)
            continue
        if key == "cmdstat_host":
            # the "host:" pseudo command puts a colon inside the key
            key, _, value = line.rpartition(":")
        if key == "module":
            info.setdefault("modules", []).append(_info_value(value))
        else:
            info[key] = _info_value(value)
    return info


def parse_debug_object(response: Any) -> Dict[str, Any]:
    """Parse ``DEBUG OBJECT``'s ``Value at:0x... refcount:1 ...`` line.

    The first word is the object type, reported under ``type``; the known
    counters are converted to ``int``.
    """
    text = "type:" + str_if_bytes(response)
    result: Dict[str, Any] = dict(token.split(":") for token in text.split())
    for name in ("refcount", "serializedlength", "lru", "lru_seconds_idle"):
        if name in result:
            result[name] = int(result[name])
    return result


def parse_memory_stats(response: List[Any], **options: Any) -> Dict[str, Any]:
    """MEMORY STATS -> dict with ``str`` keys; the per-database ``db.N``
    entries are themselves turned into dicts."""
    stats = pairs_to_dict(response, decode_keys=True, decode_string_values=True)
    for key, value in stats.items():
        if key.startswith("db.") and isinstance(value, list):
            stats[key] = pairs_to_dict(
                value, decode_keys=True, decode_string_values=True
            )
    return stats


# CLIENT INFO / ACL LOG client-info fields that the server prints as integers
_CLIENT_INFO_INT_FIELDS = (
    "id",
    "age",
    "idle",
    "db",
    "sub",
    "psub",
    "multi",
    "qbuf",
    "qbuf-free",
    "obl",
    "argv-mem",
    "oll",
    "omem",
    "tot-mem",
)


def parse_client_info(value: Any) -> Dict[str, Any]:
    """Parse one ``key=value key=value ...`` client description (CLIENT INFO,
    ACL LOG client-info) into a dict, with the numeric fields as ints."""
    client: Dict[str, Any] = {}
    for token in str_if_bytes(value).strip().split():
        name, field_value = token.split("=")
        client[name] = field_value
    for name in _CLIENT_INFO_INT_FIELDS:
        if name in client:
            client[name] = int(client[name])
    return client


def parse_client_list(response: Any, **options: Any) -> List[Dict[str, str]]:
    """CLIENT LIST -> one dict of string fields per client line.

    A word without ``=`` continues the previous field's value (for example a
    unix socket path containing a space).
    """
    clients = []
    for line in str_if_bytes(response).splitlines():
        client: Dict[str, str] = {}
        previous = None
        for token in line.split(" "):
            if "=" in token:
                name, _, field_value = token.partition("=")
                client[name] = field_value
                previous = name
            else:
                client[previous] += " " + token
        if client:
            clients.append(client)
    return clients


def parse_client_kill(response: Any, **options: Any) -> Any:
    """CLIENT KILL: the number of killed clients (filter form), or True/False
    for the legacy ``ip:port`` form."""
    if isinstance(response, int):
        return response
    return str_if_bytes(response) == "OK"


def parse_config_get(response: List[Any], **options: Any) -> Dict[Any, Any]:
    """CONFIG GET -> ``{name: value}`` with both sides decoded to ``str``."""
    items = [None if item is None else str_if_bytes(item) for item in response]
    if not items:
        return {}
    return pairs_to_dict(items) or {}


def parse_slowlog_get(response: List[Any], **options: Any) -> List[Dict[str, Any]]:
    """SLOWLOG GET -> list of dicts (id, start_time, duration, command, and
    client_address / client_name when the server sends them).

    Redis Enterprise inserts a complexity entry before the command; it is
    reported as ``complexity``.
    """
    separator = " " if options.get("decode_responses", False) else b" "
    entries = []
    for item in response:
        entry = {"id": item[0], "start_time": int(item[1]), "duration": int(item[2])}
        if isinstance(item[3], list):
            entry["command"] = separator.join(item[3])
            extra_at = 4
        else:
            entry["complexity"] = item[3]
            entry["command"] = separator.join(item[4])
            extra_at = 5
        if len(item) >= extra_at + 2:
            entry["client_address"] = item[extra_at]
            entry["client_name"] = item[extra_at + 1]
        entries.append(entry)
    return entries


def parse_command(response: List[Any], **options: Any) -> Dict[str, Dict[str, Any]]:
    """COMMAND -> ``{name: {name, arity, flags, first_key_pos, last_key_pos,
    step_count[, tips, key_specifications, subcommands]}}``."""
    commands = {}
    for entry in response:
        name = str_if_bytes(entry[0])
        details = {
            "name": name,
            "arity": int(entry[1]),
            "flags": [str_if_bytes(flag) for flag in entry[2]],
            "first_key_pos": entry[3],
            "last_key_pos": entry[4],
            "step_count": entry[5],
        }
        if len(entry) > 7:
            details["tips"] = entry[7]
            details["key_specifications"] = entry[8]
            details["subcommands"] = entry[9]
        commands[name] = details
    return commands


def parse_pubsub_numsub(response: List[Any], **options: Any) -> List[Tuple[Any, Any]]:
    """PUBSUB NUMSUB -> list of ``(channel, count)`` tuples."""
    return list(zip(response[0::2], response[1::2]))


def parse_set_result(response: Any, **options: Any) -> Any:
    """SET: the old value when called with ``get=True``; otherwise True for
    ``OK`` and the nil reply (None) when an NX/XX condition was not met."""
    if options.get("get"):
        return response
    if not response:
        return response
    return str_if_bytes(response) == "OK"


# --------------------------------------------------------------------------
# sorted sets, sort, scans
# --------------------------------------------------------------------------


def zset_score_pairs(response: Any, **options: Any) -> Any:
    """With ``withscores``, turn ``[m1, s1, m2, s2, ...]`` into
    ``[(m1, cast(s1)), ...]`` where cast is ``score_cast_func`` (float by
    default); otherwise return the reply unchanged."""
    if not response or not options.get("withscores"):
        return response
    cast = options.get("score_cast_func", float)
    members = response[::2]
    scores = response[1::2]
    return [(member, cast(score)) for member, score in zip(members, scores)]


def zset_score_for_rank(response: Any, **options: Any) -> Any:
    """ZRANK/ZREVRANK with ``withscore``: ``[rank, cast(score)]``."""
    if not response or not options.get("withscore"):
        return response
    cast = options.get("score_cast_func", float)
    return [response[0], cast(response[1])]


def parse_zadd(response: Any, **options: Any) -> Any:
    """ZADD: the new score (float) in INCR mode, else the integer count."""
    if response is None:
        return None
    if options.get("as_score"):
        return float(response)
    return int(response)


def parse_zmscore(response: List[Any], **options: Any) -> List[Optional[float]]:
    """ZMSCORE -> list of floats, None for missing members."""
    return [None if score is None else float(score) for score in response]


def sort_return_tuples(response: Any, **options: Any) -> Any:
    """SORT with ``groups=n``: regroup the flat reply into n-tuples."""
    size = options.get("groups")
    if not response or not size:
        return response
    columns = [response[offset::size] for offset in range(size)]
    return list(zip(*columns))


def parse_scan(response: List[Any], **options: Any) -> Tuple[int, Any]:
    """SCAN/SSCAN -> ``(int cursor, items)``."""
    cursor, items = response
    return int(cursor), items


def parse_hscan(response: List[Any], **options: Any) -> Tuple[int, Any]:
    """HSCAN -> ``(cursor, {field: value})``, or ``(cursor, [fields])`` when
    the command was sent with ``no_values``."""
    cursor, items = response
    if options.get("no_values", False):
        return int(cursor), items or []
    return int(cursor), pairs_to_dict(items) if items else {}


def parse_zscan(response: List[Any], **options: Any) -> Tuple[int, List[Tuple[Any, Any]]]:
    """ZSCAN -> ``(cursor, [(member, cast(score)), ...])``."""
    cast = options.get("score_cast_func", float)
    cursor, items = response
    pairs = [(member, cast(score)) for member, score in zip(items[::2], items[1::2])]
    return int(cursor), pairs


# --------------------------------------------------------------------------
# strings
# --------------------------------------------------------------------------


def parse_stralgo(response: Any, **options: Any) -> Any:
    """STRALGO LCS: the int length with ``len``; with ``idx`` a dict holding
    the ``matches`` (each a list of ``(start, end)`` tuples, prefixed with the
    match length when ``withmatchlen``) and ``len``; otherwise the common
    string as ``str``."""
    if options.get("len", False):
        return int(response)
    if options.get("idx", False):
        if options.get("withmatchlen", False):
            matches = [
                [int(match[-1])] + [tuple(span) for span in match[:-1]]
                for match in response[1]
            ]
        else:
            matches = [[tuple(span) for span in match] for match in response[1]]
        return {
            str_if_bytes(response[0]): matches,
            str_if_bytes(response[2]): int(response[3]),
        }
    return str_if_bytes(response)


# --------------------------------------------------------------------------
# streams
# --------------------------------------------------------------------------


def parse_stream_list(response: Any, **options: Any) -> Any:
    """A list of stream entries ``[id, [f1, v1, ...]]`` -> list of
    ``(id, {f1: v1, ...})`` tuples; deleted entries become ``(None, None)``.

    For XREADGROUP with ``claim_min_idle_time`` the extra per-entry fields
    the server appends are kept after the dict.
    """
    if response is None:
        return None
    with_extra = "claim_min_idle_time" in options
    entries = []
    for entry in response:
        if entry is None:
            entries.append((None, None))
        elif with_extra:
            entries.append((entry[0], pairs_to_dict(entry[1]), *entry[2:]))
        else:
            entries.append((entry[0], pairs_to_dict(entry[1])))
    return entries


def parse_xread(response: Any, **options: Any) -> List[List[Any]]:
    """XREAD/XREADGROUP -> ``[[stream, entries], ...]``; ``[]`` on timeout."""
    if response is None:
        return []
    return [[item[0], parse_stream_list(item[1], **options)] for item in response]


def parse_xclaim(response: Any, **options: Any) -> Any:
    """XCLAIM: the ids as sent with JUSTID, else parsed entries."""
    if options.get("parse_justid", False):
        return response
    return parse_stream_list(response)


def parse_xautoclaim(response: Any, **options: Any) -> Any:
    """XAUTOCLAIM: with JUSTID only the claimed ids; otherwise the reply with
    its entries parsed in place."""
    if options.get("parse_justid", False):
        return response[1]
    response[1] = parse_stream_list(response[1])
    return response


def parse_xinfo_stream(response: Any, **options: Any) -> Dict[str, Any]:
    """XINFO STREAM [FULL] -> dict with ``str`` keys; entries are turned into
    ``(id, fields)`` tuples (or an ``{id: fields}`` dict in FULL mode) and
    FULL groups / consumers into dicts."""
    if isinstance(response, list):
        data = pairs_to_dict(response, decode_keys=True)
    else:
        data = {str_if_bytes(key): value for key, value in response.items()}
    if not options.get("full", False):
        first = data.get("first-entry")
        if first is not None and first[0] is not None:
            data["first-entry"] = (first[0], pairs_to_dict(first[1]))
        last = data["last-entry"]
        if last is not None and last[0] is not None:
            data["last-entry"] = (last[0], pairs_to_dict(last[1]))
        return data

    data["entries"] = {entry_id: pairs_to_dict(fields) for entry_id, fields in data["entries"]}
    groups = data["groups"]
    if groups and isinstance(groups[0], list):
        data["groups"] = [pairs_to_dict(group, decode_keys=True) for group in groups]
        for group in data["groups"]:
            consumers = group["consumers"]
            if consumers and consumers[0] is not None:
                group["consumers"] = [
                    pairs_to_dict(consumer, decode_keys=True) for consumer in consumers
                ]
    else:
        data["groups"] = [
            {str_if_bytes(key): value for key, value in group.items()}
            for group in groups
        ]
    return data


def parse_xpending(response: Any, **options: Any) -> Any:
    """XPENDING summary -> dict(pending, min, max, consumers=[{name,
    pending}]); with ``parse_detail`` the extended form, see
    :func:`parse_xpending_range`."""
    if options.get("parse_detail", False):
        return parse_xpending_range(response)
    consumers = [
        {"name": name, "pending": int(count)} for name, count in response[3] or []
    ]
    return {
        "pending": response[0],
        "min": response[1],
        "max": response[2],
        "consumers": consumers,
    }


_XPENDING_RANGE_FIELDS = (
    "message_id",
    "consumer",
    "time_since_delivered",
    "times_delivered",
)


def parse_xpending_range(response: List[List[Any]]) -> List[Dict[str, Any]]:
    """Extended XPENDING -> one dict per pending message."""
    return [dict(zip(_XPENDING_RANGE_FIELDS, row)) for row in response]


# --------------------------------------------------------------------------
# geo
# --------------------------------------------------------------------------


def _identity(value: Any) -> Any:
    return value


def _coordinates(pair: List[Any]) -> Tuple[float, float]:
    return (float(pair[0]), float(pair[1]))


def parse_geosearch_generic(response: Any, **options: Any) -> Any:
    """GEOSEARCH / GEORADIUS[BYMEMBER]: with WITHDIST/WITHHASH/WITHCOORD each
    place becomes ``[name, dist?, hash?, (lon, lat)?]`` with typed values.

    The reply is returned as it is for STORE/STOREDIST or when the command
    was sent through ``execute_command`` without the usual options.
    """
    try:
        if options["store"] or options["store_dist"]:
            return response
    except KeyError:
        return response

    places = response if isinstance(response, list) else [response]
    if not options["withdist"] and not options["withcoord"] and not options["withhash"]:
        return places
    # the server sends the optional fields in this order after the name
    converters: List[Callable] = [_identity]
    for flag, cast in (
        ("withdist", float),
        ("withhash", int),
        ("withcoord", _coordinates),
    ):
        if options[flag]:
            converters.append(cast)
    return [
        [convert(value) for convert, value in zip(converters, place)]
        for place in places
    ]


def _parse_geopos(response: List[Any]) -> List[Optional[Tuple[float, float]]]:
    return [None if pair is None else _coordinates(pair) for pair in response]


# --------------------------------------------------------------------------
# ACL
# --------------------------------------------------------------------------


def parse_acl_getuser(response: Any, **options: Any) -> Optional[Dict[str, Any]]:
    """ACL GETUSER -> dict with ``str`` keys; flags, passwords, keys and
    channels become lists of ``str``, the command rules are split into
    ``commands`` and ``categories``, and ``enabled`` tells whether the user
    is on.  None for an unknown user."""
    if response is None:
        return None
    if isinstance(response, list):
        data = pairs_to_dict(response, decode_keys=True)
    else:
        data = {str_if_bytes(key): value for key, value in response.items()}

    data["flags"] = [str_if_bytes(flag) for flag in data["flags"]]
    data["passwords"] = [str_if_bytes(item) for item in data["passwords"]]
    data["commands"] = str_if_bytes(data["commands"])
    if isinstance(data["keys"], (str, bytes)):
        data["keys"] = str_if_bytes(data["keys"]).split(" ")
    if data["keys"] == [""]:
        data["keys"] = []
    if "channels" in data:
        if isinstance(data["channels"], (str, bytes)):
            data["channels"] = str_if_bytes(data["channels"]).split(" ")
        if data["channels"] == [""]:
            data["channels"] = []
    if "selectors" in data:
        selectors = data["selectors"]
        if selectors != [] and isinstance(selectors[0], list):
            data["selectors"] = [
                [str_if_bytes(item) for item in selector] for selector in selectors
            ]
        elif selectors != []:
            data["selectors"] = [
                {str_if_bytes(k): str_if_bytes(v) for k, v in selector.items()}
                for selector in selectors
            ]

    commands: List[str] = []
    categories: List[str] = []
    for rule in data["commands"].split(" "):
        (categories if "@" in rule else commands).append(rule)
    data["commands"] = commands
    data["categories"] = categories
    data["enabled"] = "on" in data["flags"]
    return data


def parse_acl_log(response: Any, **options: Any) -> Any:
    """ACL LOG -> list of dicts (client-info parsed, age-seconds as float);
    ACL LOG RESET -> bool."""
    if response is None:
        return None
    if not isinstance(response, list):
        return bool_ok(response)
    entries = []
    for raw in response:
        entry = pairs_to_dict(raw, True, True)
        entry["client-info"] = parse_client_info(entry.get("client-info", ""))
        entry["age-seconds"] = float(entry["age-seconds"])
        entries.append(entry)
    return entries


# --------------------------------------------------------------------------
# cluster
# --------------------------------------------------------------------------


def parse_cluster_info(response: Any, **options: Any) -> Dict[str, str]:
    """CLUSTER INFO -> ``{field: value}`` of strings."""
    lines = str_if_bytes(response).splitlines()
    return dict(line.split(":") for line in lines if line)


def _parse_slots(slot_ranges: List[str]) -> Tuple[List[List[str]], List[Dict[str, str]]]:
    """Split the slot part of a CLUSTER NODES line into plain ranges and
    ``[slot->-node]`` / ``[slot-<-node]`` migrations."""
    slots: List[List[str]] = []
    migrations: List[Dict[str, str]] = []
    for item in slot_ranges:
        if "->-" in item:
            slot, node = item[1:-1].split("->-", 1)
            migrations.append({"slot": slot, "node_id": node, "state": "migrating"})
        elif "-<-" in item:
            slot, node = item[1:-1].split("-<-", 1)
            migrations.append({"slot": slot, "node_id": node, "state": "importing"})
        else:
            slots.append(item.split("-"))
    return slots, migrations


def _parse_node_line(line: str) -> Tuple[str, Dict[str, Any]]:
    """One CLUSTER NODES line -> ``(ip:port, node dict)``."""
    fields = line.split(" ")
    node_id, address, flags, master_id, ping, pong, epoch, link = fields[:8]
    endpoint = address.split("@")[0]
    hostname = ""
    if "@" in address and "," in address:
        hostname = address.split("@")[1].split(",")[1]
    node = {
        "node_id": node_id,
        "hostname": hostname,
        "flags": flags,
        "master_id": master_id,
        "last_ping_sent": ping,
        "last_pong_rcvd": pong,
        "epoch": epoch,
        "slots": [],
        "migrations": [],
        "connected": link == "connected",
    }
    if len(fields) >= 9:
        node["slots"], node["migrations"] = _parse_slots(fields[8:])
    return endpoint, node


def parse_cluster_nodes(response: Any, **options: Any) -> Dict[str, Dict[str, Any]]:
    """CLUSTER NODES (one string) or CLUSTER REPLICAS (list of lines) ->
    ``{ip:port: node dict}``."""
    if isinstance(response, (str, bytes)):
        response = response.splitlines()
    return dict(_parse_node_line(str_if_bytes(line)) for line in response)


# --------------------------------------------------------------------------
# sentinel
# --------------------------------------------------------------------------

SENTINEL_STATE_TYPES = {
    name: int
    for name in (
        "can-failover-its-master",
        "config-epoch",
        "down-after-milliseconds",
        "failover-timeout",
        "info-refresh",
        "last-hello-message",
        "last-ok-ping-reply",
        "last-ping-reply",
        "last-ping-sent",
        "master-link-down-time",
        "master-port",
        "num-other-sentinels",
        "num-slaves",
        "o-down-time",
        "pending-commands",
        "parallel-syncs",
        "port",
        "quorum",
        "role-reported-time",
        "s-down-time",
        "slave-priority",
        "slave-repl-offset",
        "voted-leader-epoch",
    )
}

_SENTINEL_FLAGS = (
    ("is_master", "master"),
    ("is_slave", "slave"),
    ("is_sdown", "s_down"),
    ("is_odown", "o_down"),
    ("is_sentinel", "sentinel"),
    ("is_disconnected", "disconnected"),
    ("is_master_down", "master_down"),
)


def parse_sentinel_state(item: Iterable[Any]) -> Dict[str, Any]:
    """One sentinel state (flat key/value strings) -> typed dict with the
    ``is_*`` booleans derived from ``flags``."""
    state = pairs_to_dict_typed(item, SENTINEL_STATE_TYPES)
    flags = set(state["flags"].split(","))
    for name, flag in _SENTINEL_FLAGS:
        state[name] = flag in flags
    return state


def parse_sentinel_master(response: List[Any], **options: Any) -> Dict[str, Any]:
    """SENTINEL MASTER -> state dict."""
    return parse_sentinel_state(str_if_bytes(item) for item in response)


def parse_sentinel_masters(response: List[Any], **options: Any) -> Dict[str, Any]:
    """SENTINEL MASTERS -> ``{name: state dict}``."""
    masters = {}
    for item in response:
        state = parse_sentinel_state(str_if_bytes(value) for value in item)
        masters[state["name"]] = state
    return masters


def parse_sentinel_slaves_and_sentinels(
    response: List[Any], **options: Any
) -> List[Dict[str, Any]]:
    """SENTINEL SLAVES / SENTINELS -> list of state dicts."""
    return [
        parse_sentinel_state(str_if_bytes(value) for value in item)
        for item in response
    ]


def parse_sentinel_get_master(response: Any, **options: Any) -> Any:
    """SENTINEL GET-MASTER-ADDR-BY-NAME -> ``(host, port)`` or None."""
    if not response:
        return None
    return (response[0], int(response[1]))


# --------------------------------------------------------------------------
# small option-less callbacks (named so that tracebacks say what they are)
# --------------------------------------------------------------------------


def _parse_ping(response: Any) -> bool:
    return str_if_bytes(response) == "PONG"


def _parse_script_exists(response: List[Any]) -> List[bool]:
    return [bool(item) for item in response]


def _parse_time(response: List[Any]) -> Tuple[int, int]:
    return (int(response[0]), int(response[1]))


def _to_set(response: Any) -> set:
    return set(response) if response else set()


def _always_true(response: Any) -> bool:
    return True


def _blocking_pop(response: Any) -> Optional[tuple]:
    return tuple(response) if response else None


def _blocking_zpop(response: Any) -> Optional[tuple]:
    if not response:
        return None
    return (response[0], response[1], float(response[2]))


def _str_list(response: List[Any]) -> List[Any]:
    return [str_if_bytes(item) for item in response]


def _hgetall(response: Any) -> Dict[Any, Any]:
    return pairs_to_dict(response) if response else {}


def _list_of_dicts(response: List[Any]) -> List[Dict[Any, Any]]:
    return [pairs_to_dict(item) for item in response]


# --------------------------------------------------------------------------
# callback tables
# --------------------------------------------------------------------------

_RedisCallbacks: Dict[str, Callable] = {
    **string_keys_to_dict(
        "AUTH COPY EXPIRE EXPIREAT HEXISTS HMSET MOVE MSETNX PERSIST PSETEX "
        "PEXPIRE PEXPIREAT RENAMENX SETEX SETNX SMOVE",
        bool,
    ),
    **string_keys_to_dict("HINCRBYFLOAT INCRBYFLOAT", float),
    **string_keys_to_dict(
        "ASKING FLUSHALL FLUSHDB LSET LTRIM MSET PFMERGE READONLY READWRITE "
        "RENAME SAVE SELECT SHUTDOWN SLAVEOF SWAPDB WATCH UNWATCH",
        bool_ok,
    ),
    **string_keys_to_dict("XREAD XREADGROUP", parse_xread),
    **string_keys_to_dict(
        "GEORADIUS GEORADIUSBYMEMBER GEOSEARCH", parse_geosearch_generic
    ),
    **string_keys_to_dict("XRANGE XREVRANGE", parse_stream_list),
    "ACL GETUSER": parse_acl_getuser,
    "ACL LOAD": bool_ok,
    "ACL LOG": parse_acl_log,
    "ACL SETUSER": bool_ok,
    "ACL SAVE": bool_ok,
    "CLIENT INFO": parse_client_info,
    "CLIENT KILL": parse_client_kill,
    "CLIENT LIST": parse_client_list,
    "CLIENT PAUSE": bool_ok,
    "CLIENT SETINFO": bool_ok,
    "CLIENT SETNAME": bool_ok,
    "CLIENT UNBLOCK": bool,
    "CLUSTER ADDSLOTS": bool_ok,
    "CLUSTER ADDSLOTSRANGE": bool_ok,
    "CLUSTER DELSLOTS": bool_ok,
    "CLUSTER DELSLOTSRANGE": bool_ok,
    "CLUSTER FAILOVER": bool_ok,
    "CLUSTER FORGET": bool_ok,
    "CLUSTER INFO": parse_cluster_info,
    "CLUSTER MEET": bool_ok,
    "CLUSTER NODES": parse_cluster_nodes,
    "CLUSTER REPLICAS": parse_cluster_nodes,
    "CLUSTER REPLICATE": bool_ok,
    "CLUSTER RESET": bool_ok,
    "CLUSTER SAVECONFIG": bool_ok,
    "CLUSTER SET-CONFIG-EPOCH": bool_ok,
    "CLUSTER SETSLOT": bool_ok,
    "CLUSTER SLAVES": parse_cluster_nodes,
    "COMMAND": parse_command,
    "CONFIG RESETSTAT": bool_ok,
    "CONFIG SET": bool_ok,
    "FUNCTION DELETE": bool_ok,
    "FUNCTION FLUSH": bool_ok,
    "FUNCTION RESTORE": bool_ok,
    "GEODIST": float_or_none,
    "HSCAN": parse_hscan,
    "INFO": parse_info,
    "LASTSAVE": timestamp_to_datetime,
    "MEMORY PURGE": bool_ok,
    "MODULE LOAD": bool,
    "MODULE UNLOAD": bool,
    "PING": _parse_ping,
    "PUBSUB NUMSUB": parse_pubsub_numsub,
    "PUBSUB SHARDNUMSUB": parse_pubsub_numsub,
    "QUIT": bool_ok,
    "SET": parse_set_result,
    "SCAN": parse_scan,
    "SCRIPT EXISTS": _parse_script_exists,
    "SCRIPT FLUSH": bool_ok,
    "SCRIPT KILL": bool_ok,
    "SCRIPT LOAD": str_if_bytes,
    "SENTINEL CKQUORUM": bool_ok,
    "SENTINEL FAILOVER": bool_ok,
    "SENTINEL FLUSHCONFIG": bool_ok,
    "SENTINEL GET-MASTER-ADDR-BY-NAME": parse_sentinel_get_master,
    "SENTINEL MONITOR": bool_ok,
    "SENTINEL RESET": bool_ok,
    "SENTINEL REMOVE": bool_ok,
    "SENTINEL SET": bool_ok,
    "SLOWLOG GET": parse_slowlog_get,
    "SLOWLOG RESET": bool_ok,
    "SORT": sort_return_tuples,
    "SSCAN": parse_scan,
    "TIME": _parse_time,
    "XAUTOCLAIM": parse_xautoclaim,
    "XCLAIM": parse_xclaim,
    "XGROUP CREATE": bool_ok,
    "XGROUP DESTROY": bool,
    "XGROUP SETID": bool_ok,
    "XINFO STREAM": parse_xinfo_stream,
    "XPENDING": parse_xpending,
    "ZSCAN": parse_zscan,
}


_RedisCallbacksRESP2: Dict[str, Callable] = {
    **string_keys_to_dict("SDIFF SINTER SMEMBERS SUNION", _to_set),
    **string_keys_to_dict(
        "ZDIFF ZINTER ZPOPMAX ZPOPMIN ZRANGE ZRANGEBYSCORE ZREVRANGE "
        "ZREVRANGEBYSCORE ZUNION",
        zset_score_pairs,
    ),
    **string_keys_to_dict("ZREVRANK ZRANK", zset_score_for_rank),
    **string_keys_to_dict("ZINCRBY ZSCORE", float_or_none),
    **string_keys_to_dict("BGREWRITEAOF BGSAVE", _always_true),
    **string_keys_to_dict("BLPOP BRPOP", _blocking_pop),
    **string_keys_to_dict("BZPOPMAX BZPOPMIN", _blocking_zpop),
    "ACL CAT": _str_list,
    "ACL GENPASS": str_if_bytes,
    "ACL HELP": _str_list,
    "ACL LIST": _str_list,
    "ACL USERS": _str_list,
    "ACL WHOAMI": str_if_bytes,
    "CLIENT GETNAME": str_if_bytes,
    "CLIENT TRACKINGINFO": _str_list,
    "CLUSTER GETKEYSINSLOT": _str_list,
    "COMMAND GETKEYS": _str_list,
    "CONFIG GET": parse_config_get,
    "DEBUG OBJECT": parse_debug_object,
    "GEOHASH": _str_list,
    "GEOPOS": _parse_geopos,
    "HGETALL": _hgetall,
    "HOTKEYS GET": _list_of_dicts,
    "MEMORY STATS": parse_memory_stats,
    "MODULE LIST": _list_of_dicts,
    "RESET": str_if_bytes,
    "SENTINEL MASTER": parse_sentinel_master,
    "SENTINEL MASTERS": parse_sentinel_masters,
    "SENTINEL SENTINELS": parse_sentinel_slaves_and_sentinels,
    "SENTINEL SLAVES": parse_sentinel_slaves_and_sentinels,
    "STRALGO": parse_stralgo,
    "XINFO CONSUMERS": parse_list_of_dicts,
    "XINFO GROUPS": parse_list_of_dicts,
    "ZADD": parse_zadd,
    "ZMSCORE": parse_zmscore,
}
