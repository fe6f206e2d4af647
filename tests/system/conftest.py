"""Fixtures the system tests share: a CA, and the stand-in network's certificates (tests.support.netns)."""

from __future__ import annotations

import pytest

from tests.support.netns import NAME


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA (as a company's TLS-inspection CA) and a server certificate for NAME, as files."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA(organization_name="Polaris test inspection CA")
    cert = ca.issue_cert(NAME, "127.0.0.1")
    where = tmp_path_factory.mktemp("pki")
    paths = {"ca": where / "ca.pem", "cert": where / "cert.pem", "key": where / "key.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    with open(paths["cert"], "wb") as out:
        for blob in cert.cert_chain_pems:
            out.write(blob.bytes())
    for path in paths.values():
        path.chmod(0o644)
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """A CA (trustme's) and its certificate as a file, for a test server's certificates."""
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path
