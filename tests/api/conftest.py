import pytest


@pytest.fixture
def alice(tenants, auth_headers):
    """Bearer headers of alice, owner of Acme."""
    return auth_headers(tenants["alice"])


@pytest.fixture
def bob(tenants, auth_headers):
    """Bearer headers of bob, a member of Acme."""
    return auth_headers(tenants["bob"])


@pytest.fixture
def carol(tenants, auth_headers):
    """Bearer headers of carol, owner of Globex."""
    return auth_headers(tenants["carol"])
