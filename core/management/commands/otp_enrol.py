"""Give an account a TOTP second factor and backup codes (the admin asks for them in production)."""

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import AuditAction, audit_record
from core.models import User


class Command(BaseCommand):
    help = "Create a TOTP device and ten backup codes for an account; prints the otpauth:// address."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--replace", action="store_true", help="Remove the account's existing devices first.")

    @transaction.atomic
    def handle(self, *args, email, replace=False, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account with the email address {email}.")
        if TOTPDevice.objects.filter(user=user).exists():
            if not replace:
                raise CommandError("The account already has a device; pass --replace to issue a new one.")
            TOTPDevice.objects.filter(user=user).delete()
            StaticDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        backup = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
        codes = [secrets.token_hex(4) for _ in range(10)]
        StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
        audit_record(actor=None, action=AuditAction.OTP_ENROLLED, target=user)
        self.stdout.write("Add this address to the authenticator app (or show it as a QR code):")
        self.stdout.write(device.config_url)
        self.stdout.write("Backup codes, each usable once:")
        self.stdout.write("  " + " ".join(codes))
