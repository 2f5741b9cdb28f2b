"""Access control list commands (redis-py's ``ACLCommands``)."""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple, Union

from ..exceptions import DataError
from ._types import ChannelT, EncodableT, KeyT, ResponseT
from .helpers import list_or_args

__all__ = ["ACLCommands"]


def _key_rule(encoded: bytes) -> bytes:
    """A key pattern becomes a ``~pattern`` rule unless it already carries
    a ``~`` or ``%`` (read/write) prefix."""
    if encoded.startswith(b"%") or encoded.startswith(b"~"):
        return encoded
    return b"~" + encoded


class ACLCommands:
    """ACL commands (https://redis.io/docs/management/security/acl/)."""

    def acl_cat(self, category: Optional[str] = None, **kwargs: Any) -> ResponseT:
        """Return the ACL categories, or the commands of ``category``.

        For more information, see https://redis.io/commands/acl-cat
        """
        args = [category] if category else []
        return self.execute_command("ACL CAT", *args, **kwargs)

    def acl_dryrun(self, username: str, *args: Any, **kwargs: Any) -> ResponseT:
        """Check whether ``username`` may run the command ``args`` without
        running it.

        For more information, see https://redis.io/commands/acl-dryrun
        """
        return self.execute_command("ACL DRYRUN", username, *args, **kwargs)

    def acl_deluser(self, *username: str, **kwargs: Any) -> ResponseT:
        """Delete the given users; return how many existed.

        For more information, see https://redis.io/commands/acl-deluser
        """
        return self.execute_command("ACL DELUSER", *username, **kwargs)

    def acl_genpass(self, bits: Optional[int] = None, **kwargs: Any) -> ResponseT:
        """Return a random password as a hex string of ``bits`` bits (rounded
        up to a multiple of 4; server default 256).

        For more information, see https://redis.io/commands/acl-genpass
        """
        args = []
        if bits is not None:
            try:
                size = int(bits)
                if size < 0 or size > 4096:
                    raise ValueError
            except ValueError:
                raise DataError(
                    "genpass optionally accepts a bits argument, between 0 and 4096."
                )
            args.append(size)
        return self.execute_command("ACL GENPASS", *args, **kwargs)

    def acl_getuser(self, username: str, **kwargs: Any) -> ResponseT:
        """Return the rules of ``username`` as a dict, or None if unknown.

        For more information, see https://redis.io/commands/acl-getuser
        """
        return self.execute_command("ACL GETUSER", username, **kwargs)

    def acl_help(self, **kwargs: Any) -> ResponseT:
        """Return the help text of the ACL subcommands.

        For more information, see https://redis.io/commands/acl-help
        """
        return self.execute_command("ACL HELP", **kwargs)

    def acl_list(self, **kwargs: Any) -> ResponseT:
        """Return the rules of every user, one string per user.

        For more information, see https://redis.io/commands/acl-list
        """
        return self.execute_command("ACL LIST", **kwargs)

    def acl_log(self, count: Optional[int] = None, **kwargs: Any) -> ResponseT:
        """Return the recent ACL denials (the ``count`` latest) as dicts.

        For more information, see https://redis.io/commands/acl-log
        """
        args = []
        if count is not None:
            if not isinstance(count, int):
                raise DataError("ACL LOG count must be an integer")
            args.append(count)
        return self.execute_command("ACL LOG", *args, **kwargs)

    def acl_log_reset(self, **kwargs: Any) -> ResponseT:
        """Clear the ACL log.

        For more information, see https://redis.io/commands/acl-log
        """
        return self.execute_command("ACL LOG", b"RESET", **kwargs)

    def acl_load(self, **kwargs: Any) -> ResponseT:
        """Reload the users from the configured ``aclfile``.

        For more information, see https://redis.io/commands/acl-load
        """
        return self.execute_command("ACL LOAD", **kwargs)

    def acl_save(self, **kwargs: Any) -> ResponseT:
        """Write the users to the configured ``aclfile``.

        For more information, see https://redis.io/commands/acl-save
        """
        return self.execute_command("ACL SAVE", **kwargs)

    def acl_setuser(
        self,
        username: str,
        enabled: bool = False,
        nopass: bool = False,
        passwords: Optional[Union[str, Iterable[str]]] = None,
        hashed_passwords: Optional[Union[str, Iterable[str]]] = None,
        categories: Optional[Iterable[str]] = None,
        commands: Optional[Iterable[str]] = None,
        keys: Optional[Iterable[KeyT]] = None,
        channels: Optional[Iterable[ChannelT]] = None,
        selectors: Optional[Iterable[Tuple[str, KeyT]]] = None,
        reset: bool = False,
        reset_keys: bool = False,
        reset_channels: bool = False,
        reset_passwords: bool = False,
        **kwargs: Any,
    ) -> ResponseT:
        """Create or modify the user ``username``.

        ``enabled`` turns the user on (otherwise off).  ``passwords`` /
        ``hashed_passwords`` (SHA-256 hex) are one string or a list, each
        prefixed with ``+`` to add or ``-`` to remove; ``nopass`` allows any
        password and excludes them.  ``categories`` (``+name``/``-name``,
        the ``@`` is optional) and ``commands`` (``+cmd``/``-cmd``) grant or
        deny commands.  ``keys`` are key patterns (``~`` added unless a
        ``~`` or ``%R~``/``%W~`` prefix is present), ``channels`` Pub/Sub
        channel patterns, ``selectors`` ``(command rule, key pattern)``
        pairs.  The ``reset*`` flags first clear everything, the key
        patterns, the channel patterns or the passwords.

        For more information, see https://redis.io/commands/acl-setuser
        """
        encoder = self.get_encoder()
        rules: List[EncodableT] = [username]
        for flag, word in (
            (reset, b"reset"),
            (reset_keys, b"resetkeys"),
            (reset_channels, b"resetchannels"),
            (reset_passwords, b"resetpass"),
        ):
            if flag:
                rules.append(word)
        rules.append(b"on" if enabled else b"off")

        if (passwords or hashed_passwords) and nopass:
            raise DataError(
                "Cannot set 'nopass' and supply 'passwords' or 'hashed_passwords'"
            )
        if passwords:
            for index, password in enumerate(list_or_args(passwords, [])):
                encoded = encoder.encode(password)
                if encoded.startswith(b"+"):
                    rules.append(b">" + encoded[1:])
                elif encoded.startswith(b"-"):
                    rules.append(b"<" + encoded[1:])
                else:
                    raise DataError(
                        f"Password {index} must be prefixed with a "
                        f'"+" to add or a "-" to remove'
                    )
        if hashed_passwords:
            for index, hashed in enumerate(list_or_args(hashed_passwords, [])):
                encoded = encoder.encode(hashed)
                if encoded.startswith(b"+"):
                    rules.append(b"#" + encoded[1:])
                elif encoded.startswith(b"-"):
                    rules.append(b"!" + encoded[1:])
                else:
                    raise DataError(
                        f"Hashed password {index} must be prefixed with a "
                        f'"+" to add or a "-" to remove'
                    )
        if nopass:
            rules.append(b"nopass")

        if categories:
            for category in categories:
                encoded = encoder.encode(category)
                if encoded.startswith(b"+@") or encoded.startswith(b"-@"):
                    rules.append(encoded)
                elif encoded.startswith(b"+") or encoded.startswith(b"-"):
                    rules.append(encoded[:1] + b"@" + encoded[1:])
                else:
                    raise DataError(
                        f'Category "{encoder.decode(encoded, force=True)}" '
                        'must be prefixed with "+" or "-"'
                    )
        if commands:
            for command in commands:
                encoded = encoder.encode(command)
                if not (encoded.startswith(b"+") or encoded.startswith(b"-")):
                    raise DataError(
                        f'Command "{encoder.decode(encoded, force=True)}" '
                        'must be prefixed with "+" or "-"'
                    )
                rules.append(encoded)
        if keys:
            for key in keys:
                rules.append(_key_rule(encoder.encode(key)))
        if channels:
            for channel in channels:
                rules.append(b"&" + encoder.encode(channel))
        if selectors:
            for command, key in selectors:
                encoded = encoder.encode(command)
                if not (encoded.startswith(b"+") or encoded.startswith(b"-")):
                    raise DataError(
                        f'Command "{encoder.decode(encoded, force=True)}" '
                        'must be prefixed with "+" or "-"'
                    )
                rules.append(b"(" + encoded + b" " + _key_rule(encoder.encode(key)) + b")")
        return self.execute_command("ACL SETUSER", *rules, **kwargs)

    def acl_users(self, **kwargs: Any) -> ResponseT:
        """Return the names of all users.

        For more information, see https://redis.io/commands/acl-users
        """
        return self.execute_command("ACL USERS", **kwargs)

    def acl_whoami(self, **kwargs: Any) -> ResponseT:
        """Return the user of the current connection.

        For more information, see https://redis.io/commands/acl-whoami
        """
        return self.execute_command("ACL WHOAMI", **kwargs)
