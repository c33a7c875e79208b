import pytest

from api.services import token_create


def make_token(admin, name: str = "script", days: int = 30) -> str:
    """A fresh API token for `admin`; returns the secret to send as a bearer token."""
    return token_create(admin=admin, name=name, expires_in_days=days, acting_user=admin)[1]


@pytest.fixture
def bearer():
    def headers(admin, name: str = "script") -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin, name)}"}
    return headers
