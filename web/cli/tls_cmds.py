"""`strongroom tls init`: the office's private CA and this computer's server certificate, for `serve --tls`."""

from __future__ import annotations

import ipaddress

import click

from web.certificates import IPAddress, issue, this_computer
from web.cli.common import now, settings_of


def _address(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[IPAddress, ...]:
    try:
        return tuple(ipaddress.ip_address(v.strip("[]")) for v in values)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}: give an IP address such as 192.168.1.20 (a name goes to --name).") from None


@click.group()
def tls() -> None:
    """TLS for serving the office on the LAN."""


@tls.command("init")
@click.option("--name", "names", multiple=True, help="A host name the managers use (repeatable; default: this "
              "computer's names).")
@click.option("--address", "addresses", multiple=True, callback=_address,
              help="An IP address the managers use (repeatable; default: this computer's LAN addresses).")
@click.option("--new-ca", is_flag=True, help="Make a new office CA even if one exists (managers re-install it).")
@click.pass_obj
def tls_init(obj: dict[str, object], names: tuple[str, ...], addresses: tuple[IPAddress, ...], new_ca: bool) -> None:
    """Make the office CA (once) and a server certificate for this computer, in <home>/tls/."""
    settings = settings_of(obj)
    found_names, found_addresses = this_computer()
    made = issue(settings.home, names or found_names, addresses or found_addresses, now=now(), new_ca=new_ca)
    click.echo(("Made a new office CA." if made.new_ca else "Kept the office CA.") + " Its SHA-256 fingerprint:")
    click.echo(f"  {made.fingerprint}")
    click.echo(f"Install it on each manager's computer: {made.ca_crt} (Windows) or {made.ca_pem} (see "
               "docs/office-server.md), and check the fingerprint there.")
    click.echo(f"Server certificate {made.server.cert} (key {made.server.key}), valid until "
               f"{made.not_after:%Y-%m-%d}, for:")
    click.echo("  " + ", ".join([*made.names, *map(str, made.addresses)]))
    click.echo("Serve it with: strongroom serve --host 0.0.0.0 --allow-remote --tls")


COMMANDS = (tls,)
