import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    # Error messages are asserted by their English msgids; pages still follow each request's language.
    with translation.override("en"):
        yield
