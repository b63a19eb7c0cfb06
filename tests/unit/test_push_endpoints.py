"""The push endpoints the server sends to: public https:// hosts, by every address resolved."""

from __future__ import annotations

import pytest

from circlebook.domain.errors import InvalidInputError
from circlebook.services.push_endpoints import Resolver, check_endpoint


def resolving_to(*addresses: str) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "addresses",
    [
        ("142.250.72.10",),
        ("2a00:1450:4001:80b::200a",),
        ("142.250.72.10", "2a00:1450:4001:80b::200a"),
    ],
)
def test_a_host_that_resolves_only_to_public_addresses_is_taken(addresses: tuple[str]) -> None:
    url = "https://fcm.googleapis.com/fcm/send/abc"
    assert check_endpoint(url, allow_loopback=False, resolver=resolving_to(*addresses)) == url


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.7",),
        ("142.250.72.10", "192.168.1.1"),  # one private address among public ones is enough
        ("172.16.5.4",),
        ("100.64.0.1",),  # carrier-grade NAT
        ("169.254.169.254",),  # a cloud's metadata service
        ("127.0.0.1",),
        ("::1",),
        ("fe80::1%eth0",),
        ("fd00::1",),
        ("::ffff:10.0.0.1",),  # a private IPv4 address written as IPv6
        ("0.0.0.0",),  # noqa: S104 - judged, never bound
        ("224.0.0.1",),
    ],
)
def test_a_host_that_resolves_to_any_non_public_address_is_refused(
    addresses: tuple[str],
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_endpoint(
            "https://push.example.org/x", allow_loopback=False, resolver=resolving_to(*addresses)
        )
    assert refused.value.field == "endpoint"


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        check_endpoint("https://nowhere.invalid/x", allow_loopback=False, resolver=resolving_to())


def test_plain_http_is_taken_only_to_this_machine_and_only_when_allowed() -> None:
    local = resolving_to("127.0.0.1")
    url = "http://127.0.0.1:9000/push/x"
    assert check_endpoint(url, allow_loopback=True, resolver=local) == url
    with pytest.raises(InvalidInputError):
        check_endpoint(url, allow_loopback=False, resolver=local)
    with pytest.raises(InvalidInputError):
        check_endpoint(
            "http://push.example.org/x",
            allow_loopback=True,
            resolver=resolving_to("142.250.72.10"),
        )


@pytest.mark.parametrize(
    "url",
    ["https://user:pw@push.example.org/x", "https:///x", "https://push.example.org:99999/x"],
)
def test_urls_with_credentials_no_host_or_a_bad_port_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        check_endpoint(url, allow_loopback=False, resolver=resolving_to("142.250.72.10"))
