"""Publish/subscribe and MONITOR.

``PubSub`` keeps one connection out of the pool for as long as it has
subscriptions and reads the messages the server pushes on it;
``PubSubWorkerThread`` drives a ``PubSub`` from a background thread; ``Monitor``
turns the lines of the ``MONITOR`` stream into dicts.  The classes are plain
Python (they run once per message, not once per command) over the connection
API of :mod:`redis_native.connection`, and follow redis-py 7.4's behaviour and
message shapes for RESP2.  They are re-exported from :mod:`redis_native.client`
like redis-py's ``redis.client.PubSub``/``Monitor``/``PubSubWorkerThread``.

Differences from redis-py 7.4, all in cases where redis-py fails oddly:

* ``get_message(timeout=None)`` called before anything is subscribed waits
  for a subscription and then for a message (redis-py raises ``TypeError``
  once the subscription arrives).
* A plain ``PONG``/message reply (``PING`` sent outside subscribed mode) is
  presented as a ``pong`` message with ``decode_responses=True`` too, as it is
  without decoding (redis-py indexes into the ``str``).
* ``Monitor.next_command`` raises ``RedisError`` for a line it cannot parse,
  and a client field without a port gives ``client_port=""`` (redis-py fails
  with ``AttributeError``/``ValueError``).
* No OpenTelemetry hooks and no ``EventDispatcher`` (``event_dispatcher`` is
  accepted and stored); ``push_handler_func`` is stored, and only matters
  with RESP3, which redis_native does not speak yet.
"""
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Union

from .commands.helpers import list_or_args
from .exceptions import PubSubError, RedisError
from .utils import str_if_bytes

__all__ = ["PubSub", "PubSubWorkerThread", "Monitor"]

_NO_CONNECTION = (
    "pubsub connection not set: did you forget to call subscribe() or psubscribe()?"
)


class PubSub:
    """Subscribe to channels, patterns and shard channels and read what arrives.

    Messages are dicts with the keys ``type``, ``pattern``, ``channel`` and
    ``data``.  A channel (or pattern) subscribed with a handler -- given as a
    keyword argument, ``subscribe(news=callback)`` -- has its messages passed
    to the handler instead of being returned by :meth:`get_message` or
    :meth:`listen`.

    The connection is taken from the pool at the first command and kept until
    :meth:`reset`/:meth:`close`.  Whenever it reconnects, every current
    subscription is sent again.
    """

    PUBLISH_MESSAGE_TYPES = ("message", "pmessage", "smessage")
    UNSUBSCRIBE_MESSAGE_TYPES = ("unsubscribe", "punsubscribe", "sunsubscribe")
    HEALTH_CHECK_MESSAGE = "redis-py-health-check"

    # unsubscribe confirmation type -> (subscriptions dict, pending-removal set)
    _UNSUBSCRIBE_BOOKS = {
        "unsubscribe": ("channels", "pending_unsubscribe_channels"),
        "punsubscribe": ("patterns", "pending_unsubscribe_patterns"),
        "sunsubscribe": ("shard_channels", "pending_unsubscribe_shard_channels"),
    }

    def __init__(
        self,
        connection_pool: Any,
        shard_hint: Optional[str] = None,
        ignore_subscribe_messages: bool = False,
        encoder: Optional[Any] = None,
        push_handler_func: Union[None, Callable[[str], None]] = None,
        event_dispatcher: Optional[Any] = None,
    ):
        self.connection_pool = connection_pool
        self.shard_hint = shard_hint
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.connection = None
        self.subscribed_event = threading.Event()
        # Channel names are stored the way replies come back (bytes, or str
        # with decode_responses), so the encoder is needed to normalize them.
        self.encoder = encoder if encoder is not None else connection_pool.get_encoder()
        # Push messages only exist with RESP3; kept for API compatibility.
        self.push_handler_func = push_handler_func
        self._event_dispatcher = event_dispatcher
        self._lock = threading.RLock()
        self.health_check_response_b = self.encoder.encode(self.HEALTH_CHECK_MESSAGE)
        if self.encoder.decode_responses:
            self.health_check_response = ["pong", self.HEALTH_CHECK_MESSAGE]
        else:
            self.health_check_response = [b"pong", self.health_check_response_b]
        self.reset()

    # -- life cycle ----------------------------------------------------------------
    def __enter__(self) -> "PubSub":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.reset()

    def __del__(self) -> None:
        # A PubSub dropped while subscribed must not hand a subscribed
        # connection back to the pool: reset() disconnects it first.
        try:
            self.reset()
        except Exception:
            pass

    def reset(self) -> None:
        """Drop every subscription: disconnect and give the connection back."""
        conn = getattr(self, "connection", None)
        if conn:
            conn.disconnect()
            conn.deregister_connect_callback(self.on_connect)
            self.connection_pool.release(conn)
            self.connection = None
        self.health_check_response_counter = 0
        self.channels: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_channels: Set[Any] = set()
        self.shard_channels: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_shard_channels: Set[Any] = set()
        self.patterns: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_patterns: Set[Any] = set()
        self.subscribed_event.clear()

    def close(self) -> None:
        """Same as :meth:`reset`."""
        self.reset()

    def on_connect(self, connection: Any) -> None:
        """Connect callback: subscribe again to everything we were subscribed to.

        Names that have a handler are passed as keyword arguments, which must
        be ``str``; names without one are passed positionally as stored, so
        binary names that do not decode survive a reconnect.
        """
        self.pending_unsubscribe_channels.clear()
        self.pending_unsubscribe_patterns.clear()
        self.pending_unsubscribe_shard_channels.clear()
        for book, method in (
            (self.channels, self.subscribe),
            (self.patterns, self.psubscribe),
            (self.shard_channels, self.ssubscribe),
        ):
            if not book:
                continue
            plain: List[Any] = []
            handled: Dict[str, Callable] = {}
            for name, handler in book.items():
                if handler is None:
                    plain.append(name)
                else:
                    handled[self.encoder.decode(name, force=True)] = handler
            method(*plain, **handled)

    @property
    def subscribed(self) -> bool:
        """True while there is at least one subscription."""
        return self.subscribed_event.is_set()

    # -- sending -------------------------------------------------------------------
    def execute_command(self, *args: Any) -> None:
        """Send a pub/sub command.  Its reply is read later, like a message.

        The first call takes a connection from the pool and registers
        :meth:`on_connect` on it.
        """
        if self.connection is None:
            conn = self.connection_pool.get_connection()
            self.connection = conn
            conn.register_connect_callback(self.on_connect)
            parser = getattr(conn, "_parser", None)
            if self.push_handler_func is not None and parser is not None:
                setter = getattr(parser, "set_pubsub_push_handler", None)
                if setter is not None:
                    setter(self.push_handler_func)
        conn = self.connection
        subscribed = self.subscribed
        # A connection in subscribed mode cannot answer a plain health-check
        # PING in band, so the connection's own check only runs before that.
        if not subscribed:
            self.clean_health_check_responses()
        with self._lock:
            self._execute(conn, conn.send_command, *args, check_health=not subscribed)

    def clean_health_check_responses(self) -> None:
        """Read and drop the replies of health-check PINGs still in flight."""
        conn = self.connection
        attempts = 10
        while conn and self.health_check_response_counter > 0 and attempts > 0:
            if self._execute(conn, conn.can_read, timeout=conn.socket_timeout):
                reply = self._execute(conn, conn.read_response)
                if not self.is_health_check_response(reply):
                    raise PubSubError(
                        "A non health check response was cleaned by "
                        "execute_command: {}".format(reply)
                    )
                self.health_check_response_counter -= 1
            attempts -= 1

    def _reconnect(
        self,
        conn: Any,
        error: Optional[Exception] = None,
        failure_count: Optional[int] = None,
        start_time: Optional[float] = None,
        command_name: Optional[str] = None,
    ) -> None:
        """Failure callback of the retry loop: open a fresh socket.

        Reconnecting runs :meth:`on_connect`, which restores the subscriptions.
        """
        conn.disconnect()
        conn.connect()

    def _execute(self, conn: Any, command: Callable, *args: Any, **kwargs: Any) -> Any:
        """Call ``command(*args, **kwargs)`` under the connection's retry policy,
        reconnecting (and so resubscribing) after each retried failure."""
        if conn.should_reconnect():
            self._reconnect(conn)

        def on_failure(error: Exception, failures: int) -> None:
            self._reconnect(conn, error, failures)

        return conn.retry.call_with_retry(
            lambda: command(*args, **kwargs), on_failure, with_failure_count=True
        )

    # -- reading -------------------------------------------------------------------
    def parse_response(self, block: bool = True, timeout: Optional[float] = 0) -> Any:
        """Read one raw reply from the pub/sub connection.

        With ``block`` false, waits at most ``timeout`` seconds and returns
        ``None`` when nothing arrived.  Replies to our own health checks are
        swallowed (``None``).
        """
        conn = self.connection
        if conn is None:
            raise RuntimeError(_NO_CONNECTION)
        self.check_health()

        def read_one() -> Any:
            if block:
                conn.connect()
            elif not conn.can_read(timeout=timeout):
                return None
            return conn.read_response(disconnect_on_error=False, push_request=True)

        reply = self._execute(conn, read_one)
        if self.is_health_check_response(reply):
            self.health_check_response_counter -= 1
            return None
        return reply

    def is_health_check_response(self, response: Any) -> bool:
        """True for the reply to a health-check PING.

        Subscribed, the server answers ``["pong", message]``; otherwise it
        answers with the bare message.
        """
        if self.encoder.decode_responses:
            candidates = (self.health_check_response, self.HEALTH_CHECK_MESSAGE)
        else:
            candidates = (self.health_check_response, self.health_check_response_b)
        return response in candidates

    def check_health(self) -> None:
        """Send a health-check PING when the connection's interval has elapsed.

        Its reply arrives in the message stream and is dropped there.
        """
        conn = self.connection
        if conn is None:
            raise RuntimeError(_NO_CONNECTION)
        if conn.health_check_interval and time.monotonic() > conn.next_health_check:
            conn.send_command("PING", self.HEALTH_CHECK_MESSAGE, check_health=False)
            self.health_check_response_counter += 1

    def _normalize_keys(self, data: Dict[Any, Any]) -> Dict[Any, Any]:
        """Re-key ``data`` by names in reply form (bytes, or str when decoding)."""
        encoder = self.encoder
        return {encoder.decode(encoder.encode(name)): value for name, value in data.items()}

    # -- subscribing ---------------------------------------------------------------
    def _subscribe(self, command: str, book: str, pending: str,
                   args: tuple, kwargs: Dict[str, Callable]) -> None:
        if args:
            args = tuple(list_or_args(args[0], args[1:]))
        wanted: Dict[Any, Optional[Callable]] = dict.fromkeys(args)
        wanted.update(kwargs)
        result = self.execute_command(command, *wanted.keys())
        # Recorded only once the command is out: a reconnect during the send
        # must not subscribe to the new names twice.
        wanted = self._normalize_keys(wanted)
        getattr(self, book).update(wanted)
        if not self.subscribed:
            self.subscribed_event.set()
            self.health_check_response_counter = 0
        getattr(self, pending).difference_update(wanted)
        return result

    def _unsubscribe(self, command: str, book: str, pending: str, args: tuple) -> None:
        if args:
            args = tuple(list_or_args(args[0], args[1:]))
            names: Any = self._normalize_keys(dict.fromkeys(args))
        else:
            names = getattr(self, book)
        getattr(self, pending).update(names)
        return self.execute_command(command, *args)

    def psubscribe(self, *args: Any, **kwargs: Callable) -> None:
        """Subscribe to glob-style channel patterns.

        ``psubscribe("news.*", alerts_*=handler)``: a pattern given as a
        keyword has its messages passed to the handler.
        """
        return self._subscribe("PSUBSCRIBE", "patterns", "pending_unsubscribe_patterns",
                               args, kwargs)

    def punsubscribe(self, *args: Any) -> None:
        """Unsubscribe from the given patterns, or from all of them."""
        return self._unsubscribe("PUNSUBSCRIBE", "patterns", "pending_unsubscribe_patterns",
                                 args)

    def subscribe(self, *args: Any, **kwargs: Callable) -> None:
        """Subscribe to channels; a channel given as a keyword argument has its
        messages passed to the handler instead of being returned."""
        return self._subscribe("SUBSCRIBE", "channels", "pending_unsubscribe_channels",
                               args, kwargs)

    def unsubscribe(self, *args: Any) -> None:
        """Unsubscribe from the given channels, or from all of them."""
        return self._unsubscribe("UNSUBSCRIBE", "channels", "pending_unsubscribe_channels",
                                 args)

    def ssubscribe(self, *args: Any, target_node: Any = None, **kwargs: Callable) -> None:
        """Subscribe to shard channels (``SSUBSCRIBE``, Redis 7+); handlers as
        for :meth:`subscribe`.  ``target_node`` is for cluster clients."""
        return self._subscribe("SSUBSCRIBE", "shard_channels",
                               "pending_unsubscribe_shard_channels", args, kwargs)

    def sunsubscribe(self, *args: Any, target_node: Any = None) -> None:
        """Unsubscribe from the given shard channels, or from all of them."""
        return self._unsubscribe("SUNSUBSCRIBE", "shard_channels",
                                 "pending_unsubscribe_shard_channels", args)

    # -- messages ------------------------------------------------------------------
    def listen(self) -> Iterator[Dict[str, Any]]:
        """Yield messages, blocking for each, while anything is subscribed."""
        while self.subscribed:
            message = self.handle_message(self.parse_response(block=True))
            if message is not None:
                yield message

    def get_message(self, ignore_subscribe_messages: bool = False,
                    timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """Return the next message, or ``None`` if none arrives within ``timeout``
        seconds (``None`` waits without limit).

        Without any subscription, waits up to ``timeout`` for another thread
        to subscribe, and returns ``None`` if none does.
        """
        if not self.subscribed:
            started = time.monotonic()
            if not self.subscribed_event.wait(timeout):
                return None
            if timeout is not None:
                timeout = max(0.0, timeout - (time.monotonic() - started))
        reply = self.parse_response(block=timeout is None, timeout=timeout)
        if not reply:
            return None
        return self.handle_message(reply, ignore_subscribe_messages)

    get_sharded_message = get_message

    def ping(self, message: Union[str, None] = None) -> None:
        """Send PING (with ``message``); the answer arrives as a ``pong`` message."""
        if message is None:
            return self.execute_command("PING")
        return self.execute_command("PING", message)

    def handle_message(self, response: Any,
                       ignore_subscribe_messages: bool = False) -> Optional[Dict[str, Any]]:
        """Turn a raw reply into a message dict, and keep the bookkeeping.

        Returns ``None`` when a handler consumed the message or when it is a
        (un)subscribe confirmation that is to be ignored.
        """
        if response is None:
            return None
        if isinstance(response, (bytes, str)):
            # A PING sent outside subscribed mode is answered with a plain
            # reply: present it like the subscribed-mode answer.
            if isinstance(response, bytes):
                response = [b"pong", b"" if response == b"PONG" else response]
            else:
                response = ["pong", "" if response == "PONG" else response]

        kind = str_if_bytes(response[0])
        if kind == "pmessage":
            message = {"type": kind, "pattern": response[1],
                       "channel": response[2], "data": response[3]}
        elif kind == "pong":
            message = {"type": kind, "pattern": None, "channel": None, "data": response[1]}
        else:
            message = {"type": kind, "pattern": None,
                       "channel": response[1], "data": response[2]}

        books = self._UNSUBSCRIBE_BOOKS.get(kind)
        if books is not None:
            book, pending_name = books
            name = response[1]
            pending = getattr(self, pending_name)
            if name in pending:
                pending.remove(name)
                getattr(self, book).pop(name, None)
            if not (self.channels or self.patterns or self.shard_channels):
                self.subscribed_event.clear()

        if kind in self.PUBLISH_MESSAGE_TYPES:
            if kind == "pmessage":
                handler = self.patterns.get(message["pattern"])
            elif kind == "smessage":
                handler = self.shard_channels.get(message["channel"])
            else:
                handler = self.channels.get(message["channel"])
            if handler:
                handler(message)
                return None
        elif kind != "pong":
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None
        return message

    def run_in_thread(
        self,
        sleep_time: float = 0.0,
        daemon: bool = False,
        exception_handler: Optional[Callable] = None,
        pubsub: Optional["PubSub"] = None,
        sharded_pubsub: bool = False,
    ) -> "PubSubWorkerThread":
        """Start a thread that reads messages and dispatches them to handlers.

        Every subscription must have a handler (:class:`PubSubError`
        otherwise).  Stop it with :meth:`PubSubWorkerThread.stop`.
        """
        for label, book in (
            ("Channel", self.channels),
            ("Pattern", self.patterns),
            ("Shard Channel", self.shard_channels),
        ):
            for name, handler in book.items():
                if handler is None:
                    raise PubSubError(f"{label}: '{name}' has no handler registered")
        worker = PubSubWorkerThread(
            self if pubsub is None else pubsub,
            sleep_time,
            daemon=daemon,
            exception_handler=exception_handler,
            sharded_pubsub=sharded_pubsub,
        )
        worker.start()
        return worker


class PubSubWorkerThread(threading.Thread):
    """Background reader for a :class:`PubSub` whose subscriptions all have
    handlers.  ``stop()`` ends the loop; the thread then closes the PubSub.

    ``exception_handler(error, pubsub, thread)``, if given, is called with any
    exception raised while reading instead of letting it end the thread.
    """

    def __init__(
        self,
        pubsub: PubSub,
        sleep_time: float,
        daemon: bool = False,
        exception_handler: Union[Callable[[Exception, PubSub, "PubSubWorkerThread"], None],
                                 None] = None,
        sharded_pubsub: bool = False,
    ):
        super().__init__()
        self.daemon = daemon
        self.pubsub = pubsub
        self.sleep_time = sleep_time
        self.exception_handler = exception_handler
        self.sharded_pubsub = sharded_pubsub
        self._running = threading.Event()

    def run(self) -> None:
        if self._running.is_set():
            return
        self._running.set()
        pubsub = self.pubsub
        read = pubsub.get_sharded_message if self.sharded_pubsub else pubsub.get_message
        while self._running.is_set():
            try:
                read(ignore_subscribe_messages=True, timeout=self.sleep_time)
            except BaseException as error:
                if self.exception_handler is None:
                    raise
                self.exception_handler(error, pubsub, self)
        pubsub.close()

    def stop(self) -> None:
        """Ask the loop to end (after the current read, at most ``sleep_time``
        later); the thread then closes the PubSub and its connection."""
        self._running.clear()


# --------------------------------------------------------------------------- MONITOR
def _monitor_arguments(text: str) -> List[str]:
    """The double-quoted arguments of a MONITOR line, still escaped.

    An argument ends at the first double quote that is not directly preceded
    by a backslash (the same rule redis-py applies, including its treatment
    of an argument that ends in an escaped backslash).
    """
    found: List[str] = []
    pos = 0
    while True:
        start = text.find('"', pos)
        if start < 0:
            return found
        end = text.find('"', start + 1)
        while end >= 0 and text[end - 1] == "\\":
            end = text.find('"', end + 1)
        if end < 0:
            # No closing quote after this one, so none after any later one.
            return found
        found.append(text[start + 1:end])
        pos = end + 1


def _split_monitor_header(data: str) -> Optional[tuple]:
    """``"[db client] rest"`` -> ``(db, client, rest)``, or None if malformed."""
    if not data.startswith("["):
        return None
    pos = 1
    while pos < len(data) and data[pos].isdecimal():
        pos += 1
    if pos == 1 or not data.startswith(" ", pos):
        return None
    close = data.find("] ", pos + 1)
    if close < 0:
        return None
    client = data[pos + 1:close]
    if "\n" in client:
        return None
    rest = data[close + 2:]
    return data[1:pos], client, rest.split("\n", 1)[0]


def _monitor_client(client: str) -> tuple:
    """Client field -> (client_address, client_port, client_type)."""
    if client == "lua":
        return "lua", "", "lua"
    if client.startswith("unix"):
        return "unix", client[5:], "unix"
    if not client:
        return "", "", "unknown"
    # The port follows the last colon (IPv6 addresses contain colons too).
    address, _, port = client.rpartition(":")
    return address, port, "tcp"


class Monitor:
    """The ``MONITOR`` stream of a server, one command at a time.

    Use it as a context manager: entering sends ``MONITOR``, leaving closes
    the connection.  :meth:`next_command` returns a dict with ``time``,
    ``db``, ``client_address``, ``client_port``, ``client_type`` and
    ``command``; :meth:`listen` yields them forever.
    """

    def __init__(self, connection_pool: Any):
        self.connection_pool = connection_pool
        self.connection = connection_pool.get_connection()

    def __enter__(self) -> "Monitor":
        self._start_monitor()
        return self

    def __exit__(self, *args: Any) -> None:
        # A monitoring connection cannot serve commands again: close it first.
        self.connection.disconnect()
        self.connection_pool.release(self.connection)

    def _start_monitor(self) -> None:
        self.connection.send_command("MONITOR")
        reply = self.connection.read_response()
        if str_if_bytes(reply) != "OK":
            raise RedisError(f"MONITOR failed: {reply}")

    def next_command(self) -> Optional[Dict[str, Any]]:
        """Block for the next command the server executes and describe it."""
        line = self.connection.read_response()
        if line is None:
            return None
        if isinstance(line, bytes):
            line = self.connection.encoder.decode(line, force=True)
        stamp, _, data = line.partition(" ")
        header = _split_monitor_header(data)
        if header is None:
            raise RedisError(f"Cannot parse MONITOR output: {line!r}")
        db, client, rest = header
        command = " ".join(_monitor_arguments(rest))
        # Inside the quotes the server escapes '"' as '\"'; undo only that.
        command = command.replace('\\"', '"')
        address, port, client_type = _monitor_client(client)
        return {
            "time": float(stamp),
            "db": int(db),
            "client_address": address,
            "client_port": port,
            "client_type": client_type,
            "command": command,
        }

    def listen(self) -> Iterator[Optional[Dict[str, Any]]]:
        """Yield :meth:`next_command` results forever."""
        while True:
            yield self.next_command()
