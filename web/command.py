"""``custodes serve`` and ``custodes totp``: plugged into the ``custodes`` command through
the ``custodes.commands`` entry point (the command line does not import ``web``).

The command line's context object carries the data directory (``obj.data_dir``); these
commands read it without importing ``cli``.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path
from typing import Any

import click

from ledger.credentials import check_passphrase, read_passphrase_file

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def _data_dir() -> Path:
    obj = click.get_current_context().obj
    return Path(obj.data_dir)


UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104 - an address no client has: not loopback


def behind_proxy(wsgi_app: Any) -> Any:
    """The application behind a TLS proxy on this machine (one hop): the client's address,
    scheme and host are the ones the proxy sets. A request that does not say who the
    client is (a proxy not configured to set ``X-Forwarded-For``) counts as coming from
    the network, never from this machine: the viewing log's "remote" (Policy V-B) and
    the sign-in throttle go by it."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_FORWARDED_FOR", "").strip():
            environ["HTTP_X_FORWARDED_FOR"] = UNKNOWN_CLIENT
        return fixed(environ, start_response)

    return app


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is on this machine only."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8470, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--certfile",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="TLS certificate (PEM): needed to listen on anything but this machine.",
)
@click.option(
    "--keyfile",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The certificate's private key (PEM).",
)
@click.option(
    "--behind-tls-proxy",
    is_flag=True,
    help="A reverse proxy on this machine terminates TLS (docs/WEB.md): cookies are "
    "marked Secure and the proxy's X-Forwarded-Proto/Host are trusted.",
)
@click.option(
    "--idle-minutes",
    default=15,
    show_default=True,
    type=click.IntRange(1, 480),
    help="Sign a browser out after this long without use.",
)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 32))
def serve(
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    behind_tls_proxy: bool,
    idle_minutes: int,
    threads: int,
) -> None:
    """The Director's desk in a browser: sign in with your staff passphrase.

    Listens on 127.0.0.1 (this machine only) unless told otherwise; any other address
    needs --certfile and --keyfile (TLS), or put a reverse proxy in front (docs/WEB.md).

    \b
    Example:
      custodes --data-dir /srv/custodes serve
      custodes --data-dir /srv/custodes serve --host 0.0.0.0 --port 8443 --certfile desk.pem --keyfile desk.key
    """
    from web.app import create_app, freeze_startup_heap

    if (certfile is None) != (keyfile is None):
        raise click.UsageError("give --certfile and --keyfile together")
    tls = certfile is not None
    if not is_loopback(host) and not tls:
        raise click.UsageError(
            f"refusing to serve {host} without TLS: passphrases would cross the network in "
            "clear. Give --certfile and --keyfile, or keep the default 127.0.0.1 behind a "
            "TLS reverse proxy (docs/WEB.md)."
        )
    if behind_tls_proxy and tls:
        raise click.UsageError("--behind-tls-proxy is for a proxy that terminates TLS itself")
    app = create_app(_data_dir(), tls=tls or behind_tls_proxy, idle_minutes=idle_minutes)
    freeze_startup_heap()
    if behind_tls_proxy:
        app.wsgi_app = behind_proxy(app.wsgi_app)  # type: ignore[method-assign]
    scheme = "https" if tls else "http"
    where = f"[{host}]" if ":" in host else host
    click.echo(f"Custodes dashboard on {scheme}://{where}:{port}/ (Ctrl-C stops it)", err=True)
    if tls:
        # waitress speaks plain HTTP only; with a certificate, Werkzeug's threaded server
        # serves TLS (for a handful of staff; a reverse proxy is the other way).
        from werkzeug.serving import make_server

        server: Any = make_server(
            host, port, app, threaded=True, ssl_context=(str(certfile), str(keyfile))
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        return
    import waitress

    from web.app import waitress_options

    waitress.serve(
        app, host=host, port=port, **waitress_options(threads, behind_tls_proxy=behind_tls_proxy)
    )


@click.group("totp")
def totp_group() -> None:
    """The optional second factor for the web dashboard: one-time codes (an authenticator
    app) after the passphrase.

    \b
    Example:
      custodes totp enrol "Dana Director"
    """


def _sign_in(name: str, passphrase_file: Path | None) -> tuple[Any, Any]:
    from ledger.app import open_ledger
    from ledger.datadir import DataDir

    datadir = DataDir.open(_data_dir())
    ledger = open_ledger(datadir)
    if passphrase_file is not None:
        secret = read_passphrase_file(passphrase_file)
    elif sys.stdin.isatty():
        secret = check_passphrase(
            click.prompt(f"Passphrase for {name}", hide_input=True, err=True), new=False
        )
    else:
        raise click.UsageError("no terminal to ask for the passphrase: pass --passphrase-file")
    try:
        return datadir, ledger.authenticate(name, secret)
    finally:
        ledger.close()


_passphrase_file = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CUSTODES_PASSPHRASE_FILE",
    default=None,
    help="For scripts: your passphrase from FILE (mode 0600). Otherwise it is asked for.",
)


@totp_group.command("enrol")
@click.argument("name")
@_passphrase_file
def totp_enrol(name: str, passphrase_file: Path | None) -> None:
    """Set up (or replace) NAME's one-time codes: the member signs in with their own
    passphrase, then adds the printed otpauth:// link to an authenticator app. From then
    on the web sign-in asks for the code too.

    \b
    Example:
      custodes totp enrol "Dana Director"
    """
    from web import totp

    datadir, signer = _sign_in(name, passphrase_file)
    uri = totp.enrol(datadir, signer)
    click.echo(f"One-time codes set up for {signer.name}. Add this to the authenticator app:")
    click.echo(f"  {uri}")


@totp_group.command("remove")
@click.argument("name")
@_passphrase_file
def totp_remove(name: str, passphrase_file: Path | None) -> None:
    """Stop asking NAME for one-time codes (the member signs in to do it).

    \b
    Example:
      custodes totp remove "Dana Director"
    """
    from web import totp

    datadir, signer = _sign_in(name, passphrase_file)
    done = totp.remove(datadir, signer)
    click.echo(f"One-time codes {'removed' if done else 'were not set up'} for {signer.name}.")
