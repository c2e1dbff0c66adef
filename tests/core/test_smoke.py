import pytest


@pytest.mark.django_db
def test_home_page_is_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "一网通办" in response.content.decode()
