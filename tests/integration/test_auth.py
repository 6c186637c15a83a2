"""Login, logout, CSRF and roles over real HTTP requests."""

from tests.helpers import PASSWORD, csrf_of, login, make_user


def test_login_page_is_french_and_labelled(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="fr"' in page.text
    assert '<label for="username">Identifiant</label>' in page.text


def test_wrong_password_is_refused_with_a_message(client, sqlite_ctx):
    make_user(sqlite_ctx, "amina")
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "amina", "password": "wrong-pass", "csrf_token": token})
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.text


def test_post_without_csrf_token_is_refused(client, sqlite_ctx):
    make_user(sqlite_ctx, "amina")
    client.get("/login")
    response = client.post("/login", data={"username": "amina", "password": PASSWORD})
    assert response.status_code == 403


def test_pages_need_login_and_agents_cannot_open_the_console(client, sqlite_ctx):
    assert client.get("/desktop", follow_redirects=False).headers["location"].startswith("/login")
    make_user(sqlite_ctx, "amina")
    login(client, "amina")
    assert client.get("/console").status_code == 403


def test_login_redirect_stays_on_this_site(client, sqlite_ctx):
    make_user(sqlite_ctx, "amina")
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "amina", "password": PASSWORD, "csrf_token": token,
                                           "next": "https://evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"
