import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_page_renders_in_chromium(live_server, page, screenshot):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert page.get_by_label("Password").is_visible()
    assert screenshot("login").stat().st_size > 0
