"""Webhook URLs that lead inside (private, loopback, metadata services …) are refused, however
they are spelled; public ones pass. A fake resolver stands in for DNS where a name is needed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from shared.netguard import UnresolvedHostError, UnsafeURLError, check_url


def resolving_to(*addresses: str) -> Callable[[str, int], Sequence[str]]:
    def resolve(host: str, port: int) -> Sequence[str]:
        return list(addresses)

    return resolve


def not_resolving(host: str, port: int) -> Sequence[str]:
    raise OSError("Name or service not known")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.8.9.10/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://172.16.0.1/hook", "private"),
        ("https://192.168.0.10:8443/hook", "private"),
        ("http://[fc00::1]/hook", "private"),
        ("http://[fd12:3456::1]/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://[ff02::1]/hook", "multicast"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://[::]/hook", "unspecified"),
        ("http://240.0.0.1/hook", "private"),  # reserved class E; Python files it under private too
        ("http://100.64.0.1/hook", "shared (CGNAT)"),
        ("http://192.0.2.7/hook", "private"),  # documentation range
        ("http://[::ffff:127.0.0.1]/hook", "embedded loopback"),
        ("http://[::ffff:10.0.0.1]/hook", "embedded private"),
        ("http://[::ffff:169.254.169.254]/hook", "embedded link-local"),
        ("http://[2002:a00:1::]/hook", "embedded private"),  # 6to4 of 10.0.0.1
        ("http://[64:ff9b::7f00:1]/hook", "embedded loopback"),  # NAT64 of 127.0.0.1
    ],
)
def test_a_literal_address_inside_is_refused_and_named(url: str, kind: str) -> None:
    with pytest.raises(UnsafeURLError) as refused:
        check_url(url)
    assert kind in refused.value.reason


@pytest.mark.parametrize(
    "url", ["http://2130706433/", "http://0x7f000001/", "http://0x7f.1/", "http://017700000001/", "http://127.1/"]
)
def test_decimal_hex_and_short_spellings_of_loopback_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url(url)


def test_localhost_is_refused() -> None:
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("http://localhost:8080/hook")


def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(UnsafeURLError, match="loopback") as refused:
        check_url("https://briefing.example.org/hook", resolve=resolving_to("127.0.0.1"))
    assert "briefing.example.org" in str(refused.value)
    assert "briefing.example.org" not in refused.value.reason  # what events and logs may keep


def test_one_inside_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(UnsafeURLError, match="private"):
        check_url("https://briefing.example.org/hook", resolve=resolving_to("93.184.215.14", "10.0.0.8"))


def test_a_public_name_passes_with_every_address_it_resolves_to() -> None:
    checked = check_url("https://briefing.example.org/FS-1?x=1", resolve=resolving_to("93.184.215.14", "2606:4700::1"))
    assert (checked.host, checked.port) == ("briefing.example.org", 443)
    assert [str(a) for a in checked.addresses] == ["93.184.215.14", "2606:4700::1"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://briefing.example.org/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://briefing.example.org/", "scheme"),
        ("https://user:secret@briefing.example.org/hook", "user name or password"),
        ("https://user@briefing.example.org/hook", "user name or password"),
        ("https:///hook", "no host"),
        ("https://briefing.example.org:99999/hook", "not a valid URL"),
    ],
)
def test_other_schemes_credentials_and_broken_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(UnsafeURLError, match=problem):
        check_url(url, resolve=resolving_to("93.184.215.14"))


def test_a_host_that_does_not_resolve_is_refused_as_unresolved() -> None:
    with pytest.raises(UnresolvedHostError):
        check_url("https://nowhere.invalid/hook", resolve=not_resolving)


def test_loopback_passes_only_when_allowed_and_private_never() -> None:
    assert check_url("http://127.0.0.1:9000/hook", allow_loopback=True).port == 9000
    assert check_url("http://[::1]:9000/hook", allow_loopback=True).host == "::1"
    with pytest.raises(UnsafeURLError, match="private"):
        check_url("http://10.0.0.1/hook", allow_loopback=True)
    with pytest.raises(UnsafeURLError, match="link-local"):
        check_url("http://169.254.169.254/", allow_loopback=True)
