import pytest

from polaris_tray.core.config.urls import InvalidServerUrl, heartbeat_endpoint, normalize_server_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://polaris-test-server.onrender.com/api/v1/",
            "https://polaris-test-server.onrender.com/api/v1",
        ),
        ("http://127.0.0.1:8000/api/v1", "http://127.0.0.1:8000/api/v1"),
        ("http://localhost:9/api", "http://localhost:9/api"),
        ("http://[::1]:8080/api/v1", "http://[::1]:8080/api/v1"),
        ("http://127.8.9.10/x", "http://127.8.9.10/x"),
        ("  https://example.org  ", "https://example.org"),
    ],
)
def test_valid_urls(url, expected):
    assert normalize_server_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("ftp://example.org/api", "https://"),
        ("example.org/api", "https://"),
        ("http://example.org/api/v1", "only allowed for this computer"),
        ("http://10.0.0.5/api", "only allowed for this computer"),
        ("https://user:pw@example.org/", "user name or password"),
        ("https://example.org/api?x=1", "query"),
        ("https:///api", "no host"),
        ("https://exa mple.org", "spaces"),
        ("https://example.org:99999/", "not valid"),
    ],
)
def test_invalid_urls_say_why(url, reason):
    with pytest.raises(InvalidServerUrl, match=reason):
        normalize_server_url(url)


def test_endpoint_is_the_seeds():
    assert heartbeat_endpoint("https://h/api/v1") == "https://h/api/v1/heart_beat"
