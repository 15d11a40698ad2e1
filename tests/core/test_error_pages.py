"""Error pages in the site's layout and language: 404 (also what a user may not know exists), 403, the
expired form (CSRF) and 500."""

import pytest
from django.template.loader import render_to_string
from django.test import Client


@pytest.fixture(autouse=True)
def production_errors(settings):
    settings.DEBUG = False


@pytest.mark.django_db
def test_not_found_is_a_page_of_the_site_in_japanese():
    response = Client().get("/meetings/999999/")
    html = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="ja">' in html
    assert "ページが見つかりません" in html and 'href="/search/"' in html


@pytest.mark.django_db
def test_not_found_in_english_for_an_english_browser():
    html = Client().get("/meetings/999999/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html and "Page not found" in html


@pytest.mark.django_db
def test_an_expired_form_says_nothing_was_saved():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a@example.jp"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode() and "Nothing was saved" in response.content.decode()
    response = client.post("/accounts/login/", {"username": "a@example.jp"})
    assert '<html lang="ja">' in response.content.decode() and "The form has expired" not in response.content.decode()


def test_the_server_error_page_stands_alone_in_both_languages():
    html = render_to_string("500.html")
    assert '<html lang="ja">' in html and '<div lang="en">' in html and "{%" not in html
