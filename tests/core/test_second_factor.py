"""With DXPLAN_REQUIRE_2FA on, secretariat and admin accounts give a TOTP code before any page."""
import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEntry

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def require_2fa(settings):
    settings.DXPLAN_REQUIRE_2FA = True


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.parametrize("path", ["/manage/", "/manage/composition/", "/manage/bodies/dx-plan/roster.csv", "/admin/"])
def test_secretariat_without_code_is_sent_to_the_code_form(client, require_2fa, secretariat, body, path):
    client.force_login(secretariat, backend=MODEL_BACKEND)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify") + "?next=")


def test_member_is_not_asked_for_a_code(client, require_2fa, member, body):
    client.force_login(member, backend=MODEL_BACKEND)
    assert client.get("/my/").status_code == 200


def test_nothing_is_asked_when_the_setting_is_off(client, settings, secretariat, body):
    settings.DXPLAN_REQUIRE_2FA = False
    client.force_login(secretariat, backend=MODEL_BACKEND)
    assert client.get("/manage/").status_code == 200


def test_right_code_opens_the_pages_and_is_audited(client, require_2fa, secretariat, body):
    device = TOTPDevice.objects.create(user=secretariat, name="app", confirmed=True)
    client.force_login(secretariat, backend=MODEL_BACKEND)
    response = client.post(
        reverse("otp_verify"), {"otp_device": device.persistent_id, "otp_token": _code(device), "next": "/manage/"}
    )
    assert response.status_code == 302 and response["Location"] == "/manage/"
    assert client.get("/manage/").status_code == 200
    assert AuditEntry.objects.filter(action="otp_verified", actor=secretariat).count() == 1


def test_wrong_code_is_refused(client, require_2fa, secretariat, body):
    device = TOTPDevice.objects.create(user=secretariat, name="app", confirmed=True)
    client.force_login(secretariat, backend=MODEL_BACKEND)
    wrong = f"{(int(_code(device)) + 1) % 1000000:06d}"
    response = client.post(reverse("otp_verify"), {"otp_device": device.persistent_id, "otp_token": wrong})
    assert response.status_code == 200
    assert client.get("/manage/").status_code == 302


def test_next_must_be_a_local_path(client, require_2fa, secretariat, body):
    device = TOTPDevice.objects.create(user=secretariat, name="app", confirmed=True)
    client.force_login(secretariat, backend=MODEL_BACKEND)
    response = client.post(
        reverse("otp_verify"),
        {"otp_device": device.persistent_id, "otp_token": _code(device), "next": "//evil.example/"},
    )
    assert response["Location"] == reverse("meetings:landing")  # where a sign-in lands, by role


def test_the_code_alone_is_enough_and_a_backup_code_works_too(client, require_2fa, secretariat, body):
    from django_otp.plugins.otp_static.models import StaticDevice

    app = TOTPDevice.objects.create(user=secretariat, name="app", confirmed=True)
    backup = StaticDevice.objects.create(user=secretariat, name="backup", confirmed=True)
    backup.token_set.create(token="k7m2p9qa")
    client.force_login(secretariat, backend=MODEL_BACKEND)
    page = client.get(reverse("otp_verify")).content.decode()
    assert 'type="hidden" name="otp_device"' in page and "<select" not in page.split("<main", 1)[1]
    response = client.post(reverse("otp_verify"), {"otp_token": _code(app), "next": "/manage/"})
    assert response.status_code == 302 and response["Location"] == "/manage/"

    client.logout()
    client.force_login(secretariat, backend=MODEL_BACKEND)
    response = client.post(reverse("otp_verify"), {"otp_token": "k7m2p9qa", "next": "/manage/"})
    assert response.status_code == 302
    assert not backup.token_set.exists()  # a backup code is used once


def test_another_accounts_device_cannot_be_named(client, require_2fa, secretariat, other_secretariat, body):
    theirs = TOTPDevice.objects.create(user=other_secretariat, name="app", confirmed=True)
    TOTPDevice.objects.create(user=secretariat, name="app", confirmed=True)
    client.force_login(secretariat, backend=MODEL_BACKEND)
    response = client.post(reverse("otp_verify"), {"otp_device": theirs.persistent_id, "otp_token": _code(theirs)})
    assert response.status_code == 200
    assert client.get("/manage/").status_code == 302
