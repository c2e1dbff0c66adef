"""The client's address: X-Forwarded-For only from our own proxies, the right-most untrusted hop."""

import pytest
from django.test import RequestFactory

from yiwang.core.http import client_ip

PROXIES = "10.0.0.5, 10.1.0.0/16, fd00::/8"


def ip(remote: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.YIWANG_TRUSTED_PROXIES = ""
    assert ip("203.0.113.7", "198.51.100.1") == "203.0.113.7"
    assert ip("203.0.113.7") == "203.0.113.7"


def test_from_an_untrusted_peer_the_header_is_ignored(settings):
    settings.YIWANG_TRUSTED_PROXIES = PROXIES
    assert ip("203.0.113.7", "198.51.100.1") == "203.0.113.7"


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        # what the client wrote on the left is its own claim: the hop our proxy appended wins
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", "198.51.100.1"),
        # two proxies of ours (a network and an address): the first untrusted hop from the right
        ("10.0.0.5", "6.6.6.6, 198.51.100.1, 10.1.2.3", "198.51.100.1"),
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        # garbage stops the walk at the last real address
        ("10.0.0.5", "not-an-address, 10.1.2.3", "10.1.2.3"),
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", " 198.51.100.1 ", "198.51.100.1"),
    ],
)
def test_behind_trusted_proxies_the_right_most_untrusted_hop(settings, remote, forwarded, client):
    settings.YIWANG_TRUSTED_PROXIES = PROXIES
    assert ip(remote, forwarded) == client
