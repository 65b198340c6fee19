from ..api.conftest import alice, bob, carol  # noqa: F401 (the same signed-in users as the main API's tests)
