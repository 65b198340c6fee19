"""References that look like ids but name no row are unknown (404), never a server error."""

import pytest

from . import factories
from .conftest import API

NOT_IDS = ["¹", "١٢", "2147483648", "9" * 5000]


@pytest.mark.parametrize("ref", NOT_IDS)
@pytest.mark.parametrize(
    ("path", "error"),
    [("/conversations/{}", "Conversation not found"), ("/agents/{}", "Agent not found"),
     ("/organisations/{}", "Organisation not found")],
)
def test_a_path_reference_that_is_no_id_is_not_found(client, tenants, auth_headers, ref, path, error):
    response = client.get(API + path.format(ref), headers=auth_headers(tenants["alice"]))
    assert response.status_code == 404
    assert response.get_json()["error"] == error


@pytest.mark.parametrize("ref", NOT_IDS)
def test_a_body_reference_that_is_no_id_is_not_found(client, tenants, auth_headers, ref):
    response = client.post(
        f"{API}/chat/send", json={"conversation": ref, "message": "Hi"}, headers=auth_headers(tenants["alice"])
    )
    assert response.status_code == 404
    assert response.get_json()["error"] == "Conversation not found"


def test_the_largest_id_still_finds_its_row(client, tenants, auth_headers):
    conversation = factories.make_conversation(tenants["alice"], id=2**31 - 1)
    response = client.get(f"{API}/conversations/{2**31 - 1}", headers=auth_headers(tenants["alice"]))
    assert response.status_code == 200
    assert response.get_json()["uuid"] == conversation.uuid
