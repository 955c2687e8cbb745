import pytest

from core.broker_url import BrokerAddress, parse_broker_url


def test_defaults_and_tls() -> None:
    assert parse_broker_url("mqtt://broker") == BrokerAddress("broker", 1883, False)
    assert parse_broker_url("mqtts://broker") == BrokerAddress("broker", 8883, True)
    assert parse_broker_url("mqtts://10.0.0.5:8884") == BrokerAddress("10.0.0.5", 8884, True)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tcp://broker:1883", "must start with mqtt://"),
        ("broker:1883", "must start with mqtt://"),
        ("mqtt://:1883", "has no host"),
        ("mqtt://broker:99999", "invalid port"),
    ],
)
def test_bad_urls_are_explained(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_broker_url(url)
