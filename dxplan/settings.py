"""dxplan settings, read from the environment (django-environ).

Unset, every value falls back to the embedded default of a first run: SQLite
under var/, Celery tasks run in-process, mail written to var/mail/. The README
lists every variable and the production form.
"""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("DXPLAN_VAR_DIR", default=str(BASE_DIR / "var")))
# A development checkout: `make` writes var/env (DEBUG=true) so `manage.py` works without exporting
# anything. Variables set in the environment always win over the file; production has no such file.
if (VAR_DIR / "env").is_file():
    environ.Env.read_env(str(VAR_DIR / "env"))


def _bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=None)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = env.str(name, default=None)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


DEBUG = _bool("DEBUG", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (a random string of 50 or more characters)."
        )
    # A first run on a developer's machine: a random key kept under var/ so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        # Written whole under a name of this process's own, then linked into place: processes starting together
        # (pytest-xdist workers, a web server's workers) never read a half-written key, and the first one wins.
        import os

        from django.core.management.utils import get_random_secret_key

        _draft = VAR_DIR / f".secret_key.{os.getpid()}"
        _draft.write_text(get_random_secret_key())
        _draft.chmod(0o600)
        try:
            os.link(_draft, _key_file)
        except FileExistsError:
            pass
        finally:
            _draft.unlink()
    SECRET_KEY = _key_file.read_text().strip()
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")

ALLOWED_HOSTS = [
    h.strip()
    for h in env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
    if h.strip()
]
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The address the site is reached at; links in mail and password resets use it, never the Host header.
# In development the default follows the port `make run` serves on (PORT=8080 make run), so the links in
# mail, calendar invitations and letters reach the server actually running.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{_int('PORT', 8000, minimum=1) if DEBUG else 8000}").rstrip(
    "/"
)
if urlparse(SITE_URL).scheme not in {"http", "https"} or not urlparse(SITE_URL).netloc:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) address, not {SITE_URL!r}.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "import_export",
    "django_celery_beat",
    "core",
    "committee",
    "meetings",
    "documents",
    "notices",
    "search",
    "fees",
    "participation",
    "demo",
    # rest_framework is used (opendata's OParl views) but not installed as an app: JSON only, no templates,
    # and its Japanese catalogue would override Django's form messages.
    "opendata",
]

MIDDLEWARE = [
    "core.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.pagecache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.RequireSecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.pagecache.SignedInPageCacheMiddleware",
]

ROOT_URLCONF = "dxplan.urls"
WSGI_APPLICATION = "dxplan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
            "builtins": ["core.templatetags.dxplan", "committee.templatetags.committee_tags"],
        },
    }
]

# Database: DATABASE_URL, default SQLite under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
_DB_ENGINES = {
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
}
try:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dxplan.sqlite3'}")}
except Exception as exc:  # django-environ raises several types for a malformed URL
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a valid database address ({exc}); use postgres://user:pass@host:5432/name or sqlite:///path."
    ) from None
if DATABASES["default"].get("ENGINE") not in _DB_ENGINES:
    raise ImproperlyConfigured(
        "DATABASE_URL is not a valid database address: it must start with postgres:// (production) "
        f"or sqlite:/// (embedded default), not {env.str('DATABASE_URL', default='')!r}."
    )
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", _int("CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: the site's queries are short, but PostgreSQL's estimates for the open data's
    # subqueries (history timestamps) pass jit_above_cost, and compiling took 60 ms of a 100 ms Atom feed
    # whose rows took 1 ms (issue 13). PG_JIT=on gives it back, e.g. for reports run by hand.
    if not _bool("PG_JIT", False):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "meetings:landing"  # by role: the dashboard, approvals or my meetings
LOGOUT_REDIRECT_URL = "committee:home"

# django-axes: lock an account and address pair after repeated failures.
AXES_FAILURE_LIMIT = _int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = _int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
# Trusted reverse proxies in front (nginx: 1); core.http.client_ip reads the client's address from them.
PROXY_COUNT = _int("PROXY_COUNT", 0)
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "core.auth.axes_username"

# Second factor for secretariat and admin accounts; on by default in production.
DXPLAN_REQUIRE_2FA = _bool("DXPLAN_REQUIRE_2FA", not DEBUG)

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Private files are never served from a URL prefix; downloads go through views that check access.
MEDIA_URL = None
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

FORMS_URLFIELD_ASSUME_HTTPS = True

# Materials: uploads are checked by content; files live under MEDIA_ROOT (or S3) with generated names.
DXPLAN_UPLOAD_MAX_BYTES = _int("DXPLAN_UPLOAD_MAX_MB", 50, minimum=1) * 1024 * 1024
# ZIP containers (.docx, .xlsx, .pptx, roster workbooks), checked by their directory (core.validation): the
# unpacked total, how much one part may grow when unpacked, and how many parts.
DXPLAN_ARCHIVE_MAX_BYTES = _int("DXPLAN_ARCHIVE_MAX_MB", 300, minimum=1) * 1024 * 1024
DXPLAN_ARCHIVE_MAX_RATIO = _int("DXPLAN_ARCHIVE_MAX_RATIO", 100, minimum=2)
DXPLAN_ARCHIVE_MAX_ENTRIES = _int("DXPLAN_ARCHIVE_MAX_ENTRIES", 5000, minimum=10)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640
# OCR of scanned PDFs for the search (ocrmypdf and tesseract-ocr-jpn from Debian): off by default.
DXPLAN_OCR = _bool("DXPLAN_OCR", False)
DXPLAN_OCR_LANGUAGES = env.str("DXPLAN_OCR_LANGUAGES", default="jpn+eng")
if not re.fullmatch(r"[a-z_]+(\+[a-z_]+)*", DXPLAN_OCR_LANGUAGES):
    raise ImproperlyConfigured(f"DXPLAN_OCR_LANGUAGES must be tesseract languages such as jpn+eng, not {DXPLAN_OCR_LANGUAGES!r}.")
# Set to an nginx `internal` location (e.g. /protected/) to hand file transfers to nginx.
DXPLAN_X_ACCEL_REDIRECT_PREFIX = env.str("DXPLAN_X_ACCEL_REDIRECT_PREFIX", default="")
# From object storage, a download is streamed through Django ("stream") or answered, after the access
# check, with a redirect to a presigned address valid DXPLAN_S3_URL_SECONDS ("redirect"); documents/delivery.py.
DXPLAN_S3_DOWNLOADS = env.str("DXPLAN_S3_DOWNLOADS", default="stream")
if DXPLAN_S3_DOWNLOADS not in {"stream", "redirect"}:
    raise ImproperlyConfigured(f"DXPLAN_S3_DOWNLOADS must be stream or redirect, not {DXPLAN_S3_DOWNLOADS!r}.")
DXPLAN_S3_URL_SECONDS = _int("DXPLAN_S3_URL_SECONDS", 60, minimum=5)
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": DXPLAN_S3_URL_SECONDS,
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            # Files opened for reading (the PDF compiler needs to seek) spill to disk past 10 MB.
            "max_memory_size": 10 * 1024 * 1024,
        },
    }
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: the file backend under var/mail/ by default, so a first-time user can read what was sent.
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
try:
    _email = env.email_url("EMAIL_URL", default="filemail://")
except Exception as exc:
    raise ImproperlyConfigured(f"EMAIL_URL is not a valid mail address: {exc}") from None
if _email.get("EMAIL_BACKEND", "").endswith("filebased.EmailBackend"):
    _email["EMAIL_FILE_PATH"] = EMAIL_FILE_PATH
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="dxplan <noreply@dxplan.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
DXPLAN_REPLY_TO = env.str("DXPLAN_REPLY_TO", default="")

# Celery: without a broker, tasks run eagerly in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = _int("CELERY_TASK_TIME_LIMIT", 300, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT * 4 // 5
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Several deployments (or a test run) can share one Redis database: every key starts with this prefix.
if env.str("CELERY_BROKER_KEY_PREFIX", default=""):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env.str("CELERY_BROKER_KEY_PREFIX")
# Mail (notices.outbox): a worker holds the rows it sends under a lease of this many seconds, renewed
# between mails; when the worker dies the relay takes them back once the lease ran out. One mail must fit
# in a lease with room to spare, so the SMTP timeout is at most a third of it.
# (DXPLAN_DELIVERY_STALE_SECONDS, its name before issue 11, is still read when the new one is not set.)
DXPLAN_MAIL_LEASE_SECONDS = _int(
    "DXPLAN_MAIL_LEASE_SECONDS", _int("DXPLAN_DELIVERY_STALE_SECONDS", 30, minimum=15), minimum=15
)
DXPLAN_DELIVERY_STALE_SECONDS = DXPLAN_MAIL_LEASE_SECONDS  # the old name, for code still reading it
EMAIL_TIMEOUT = _int("EMAIL_TIMEOUT", min(10, DXPLAN_MAIL_LEASE_SECONDS // 3), minimum=1)
if EMAIL_TIMEOUT * 3 > DXPLAN_MAIL_LEASE_SECONDS:
    raise ImproperlyConfigured(
        f"DXPLAN_MAIL_LEASE_SECONDS ({DXPLAN_MAIL_LEASE_SECONDS}) must be at least three times "
        f"EMAIL_TIMEOUT ({EMAIL_TIMEOUT})."
    )
# Temporary failures (refused connections, timeouts, 4xx answers) are retried after FIRST seconds, then
# twice as long each time up to MAX seconds, for RETRY_HOURS hours from the first failure; then failed.
DXPLAN_MAIL_RETRY_FIRST_SECONDS = _int("DXPLAN_MAIL_RETRY_FIRST_SECONDS", 30, minimum=1)
DXPLAN_MAIL_RETRY_MAX_SECONDS = _int("DXPLAN_MAIL_RETRY_MAX_SECONDS", 600, minimum=1)
DXPLAN_MAIL_RETRY_HOURS = _int("DXPLAN_MAIL_RETRY_HOURS", 48, minimum=1)
# How often beat queues the relay (notices.tasks.relay): due retries, expired leases, lost messages.
DXPLAN_MAIL_RELAY_SECONDS = _int("DXPLAN_MAIL_RELAY_SECONDS", 15, minimum=5)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Composition report: targets the prefecture sets itself.
try:
    DXPLAN_WOMEN_SHARE_TARGET = float(env.str("DXPLAN_WOMEN_SHARE_TARGET", default="0.40") or "0.40")
except ValueError:
    raise ImproperlyConfigured("DXPLAN_WOMEN_SHARE_TARGET must be a number between 0 and 1, e.g. 0.4.") from None
if not 0 <= DXPLAN_WOMEN_SHARE_TARGET <= 1:
    raise ImproperlyConfigured("DXPLAN_WOMEN_SHARE_TARGET must be between 0 and 1, e.g. 0.4.")
DXPLAN_MAX_CONCURRENT_POSTS = _int("DXPLAN_MAX_CONCURRENT_POSTS", 4, minimum=1)
DXPLAN_TERM_ENDING_DAYS = _int("DXPLAN_TERM_ENDING_DAYS", 60, minimum=1)
DXPLAN_ORGANISATION_NAME = env.str("DXPLAN_ORGANISATION_NAME", default="青森県")
# The footer's contact line on pages that are not a body's (those name the body's secretariat).
DXPLAN_ORGANISATION_CONTACT = env.str("DXPLAN_ORGANISATION_CONTACT", default="")
# Branding: the organisation's colour (a hex colour such as #0017c1, checked by core.checks), served as the
# CSS custom property --brand-color by /brand.css (core.views.brand_css), so no page needs an inline style.
DXPLAN_BRAND_COLOR = env.str("DXPLAN_BRAND_COLOR", default="#0017c1")
# The ウェブアクセシビリティ方針 (/accessibility/), as みんなの公共サイト運用ガイドライン asks: the target level of
# JIS X 8341-3:2016, the 対応度 the test record supports (conforms = 準拠, partial = 一部準拠, considered = 配慮;
# docs/accessibility/README.md says why the record supports 配慮 only), when the policy was set, by when the
# target is to be met, and the date and address of the test record (empty: the record shipped in
# docs/accessibility/, shown at /accessibility/results/). A deploying prefecture that tests its own site sets these.
DXPLAN_ACCESSIBILITY_LEVEL = env.str("DXPLAN_ACCESSIBILITY_LEVEL", default="AA")
DXPLAN_ACCESSIBILITY_CONFORMANCE = env.str("DXPLAN_ACCESSIBILITY_CONFORMANCE", default="considered")
DXPLAN_ACCESSIBILITY_POLICY_DATE = env.str("DXPLAN_ACCESSIBILITY_POLICY_DATE", default="2026-11-30")
DXPLAN_ACCESSIBILITY_TARGET_DATE = env.str("DXPLAN_ACCESSIBILITY_TARGET_DATE", default="2027-03-31")
DXPLAN_ACCESSIBILITY_TESTED_ON = env.str("DXPLAN_ACCESSIBILITY_TESTED_ON", default="")
DXPLAN_ACCESSIBILITY_RECORD_URL = env.str("DXPLAN_ACCESSIBILITY_RECORD_URL", default="")
# Accounts: an invitation link works this many days; a password reset link for an hour.
DXPLAN_INVITATION_DAYS = _int("DXPLAN_INVITATION_DAYS", 14, minimum=1)
PASSWORD_RESET_TIMEOUT = _int("PASSWORD_RESET_TIMEOUT", 3600, minimum=300)

# Open data (opendata/): the licence of every export, the 全国地方公共団体コード of the CSV datasets, and the
# rate limit per client address. The limit counts in the default cache: with several processes it holds
# only when that cache is shared (CACHE_URL=redis://…); the local-memory default counts per process.
DXPLAN_OPENDATA_LICENSE_NAME = env.str("DXPLAN_OPENDATA_LICENSE_NAME", default="CC BY 4.0")
DXPLAN_OPENDATA_LICENSE_URL = env.str(
    "DXPLAN_OPENDATA_LICENSE_URL", default="https://creativecommons.org/licenses/by/4.0/"
)
DXPLAN_LOCAL_GOVERNMENT_CODE = env.str("DXPLAN_LOCAL_GOVERNMENT_CODE", default="020001")
# 法人番号 (13 digits) in the イベント一覧; empty: the 地方公共団体's own, worked out from the code above.
DXPLAN_CORPORATE_NUMBER = env.str("DXPLAN_CORPORATE_NUMBER", default="")
if not re.fullmatch(r"(\d{13})?", DXPLAN_CORPORATE_NUMBER):
    raise ImproperlyConfigured(f"DXPLAN_CORPORATE_NUMBER must be 13 digits, not {DXPLAN_CORPORATE_NUMBER!r}.")
DXPLAN_OPENDATA_RATE = env.str("DXPLAN_OPENDATA_RATE", default="120/m")
if not re.fullmatch(r"\d+/[smhd]", DXPLAN_OPENDATA_RATE):
    raise ImproperlyConfigured(f"DXPLAN_OPENDATA_RATE must look like 120/m, not {DXPLAN_OPENDATA_RATE!r}.")
try:
    CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
except Exception as exc:
    raise ImproperlyConfigured(f"CACHE_URL is not a valid cache address: {exc}") from None
# django-environ reads ?key_prefix=… into a lower-case key that Django ignores: several sites (or a
# benchmark) sharing one Redis database would then share keys.
for _option in ("key_prefix", "timeout", "version"):
    if _option in CACHES["default"]:
        CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)
# Django's Redis backend with its redis-py clients kept (core/cache.py: Django makes one per operation).
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "core.cache.RedisCache"
RATELIMIT_USE_CACHE = "default"
# A cache every process shares (Redis, Memcached, the database): sessions are read from it before the
# database, and public pages are kept in it (core/pagecache.py). The local-memory default is private to
# one process, so a logout or a change seen by one process would not reach another: there sessions stay
# in the database, and pages are cached only in development, where one process serves and writes.
CACHE_SHARED = not CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if CACHE_SHARED else "db")
DXPLAN_PAGE_CACHE = _bool("DXPLAN_PAGE_CACHE", CACHE_SHARED or DEBUG)
if DXPLAN_PAGE_CACHE and not (CACHE_SHARED or DEBUG):
    raise ImproperlyConfigured("DXPLAN_PAGE_CACHE needs a cache every process shares: set CACHE_URL=redis://…")
DXPLAN_PAGE_CACHE_SECONDS = _int("DXPLAN_PAGE_CACHE_SECONDS", 300, minimum=1)
# The public pages kept for visitors who are not signed in (by URL name), and the apps whose every write
# drops them (besides every audited change); the rows listed last change nothing those pages show.
DXPLAN_PAGE_CACHE_VIEWS = frozenset({
    "committee:home", "committee:body_list", "committee:body_detail", "committee:guideline_current",
    "committee:guideline_detail", "meetings:body_meetings", "meetings:detail", "meetings:agenda_print",
    "meetings:schedule_year", "notices:body_calendar", "print:agenda_html", "print:agenda_pdf",
    # The open data (opendata/urls.py) but for the datasets page, which carries the site's forms: a stored
    # copy still counts against the rate limit and answers conditional requests (core.pagecache).
    "opendata:oparl_system", "opendata:oparl_bodies", "opendata:oparl_body", "opendata:oparl_body_list",
    "opendata:oparl_organization_meetings", "opendata:oparl_object", "opendata:meetings_csv",
    "opendata:body_meetings_csv", "opendata:roster_csv", "opendata:popolo", "opendata:site_feed",
    "opendata:body_feed",
    # A visitor's search, one copy per query string.
    "search:search",
})
# The signed-in pages kept for the session that asked for them until the next write to the database
# (core.pagecache.SignedInPageCacheMiddleware), and for at most this many seconds (what changes with the
# clock alone, such as an answer period ending, shows within that time).
DXPLAN_SIGNED_IN_PAGE_CACHE_VIEWS = frozenset({
    "meetings:detail", "meetings:my_meetings", "meetings:approvals", "meetings:dashboard", "meetings:manage",
    "documents:manage", "documents:not_downloaded", "committee:roster_manage", "committee:composition",
    "committee:audit_log", "notices:status",
})
# Private feeds whose address is their key (a member's calendar): kept per address, like the signed-in
# pages until the next write to the database, so an address retired by a reset is never answered again.
DXPLAN_ADDRESS_PAGE_CACHE_VIEWS = frozenset({"notices:member_calendar"})
DXPLAN_SIGNED_IN_PAGE_CACHE_SECONDS = _int("DXPLAN_SIGNED_IN_PAGE_CACHE_SECONDS", 60, minimum=1)
DXPLAN_PAGE_CACHE_APPS = frozenset({"committee", "meetings", "documents", "notices", "search", "participation"})
DXPLAN_PAGE_CACHE_IGNORE = frozenset({"documents.download", "notices.delivery"})
# 傍聴: observers' personal data is deleted this many days after the meeting; registrations are throttled
# per client address and per mail address.
DXPLAN_OBSERVER_DATA_DAYS = _int("DXPLAN_OBSERVER_DATA_DAYS", 90, minimum=1)
DXPLAN_PARTICIPATION_RATE = env.str("DXPLAN_PARTICIPATION_RATE", default="20/h")
DXPLAN_PARTICIPATION_ADDRESS_RATE = env.str("DXPLAN_PARTICIPATION_ADDRESS_RATE", default="5/h")
for _rate in (DXPLAN_PARTICIPATION_RATE, DXPLAN_PARTICIPATION_ADDRESS_RATE):
    if not re.fullmatch(r"\d+/[smhd]", _rate):
        raise ImproperlyConfigured(f"Participation rates must look like 20/h, not {_rate!r}.")
# Password-reset requests: per client address and per address asked for (whether or not an account has it).
DXPLAN_PASSWORD_RESET_RATE = env.str("DXPLAN_PASSWORD_RESET_RATE", default="10/h")
DXPLAN_PASSWORD_RESET_ADDRESS_RATE = env.str("DXPLAN_PASSWORD_RESET_ADDRESS_RATE", default="3/h")
for _rate in (DXPLAN_PASSWORD_RESET_RATE, DXPLAN_PASSWORD_RESET_ADDRESS_RATE):
    if not re.fullmatch(r"\d+/[smhd]", _rate):
        raise ImproperlyConfigured(f"Password-reset rates must look like 10/h, not {_rate!r}.")
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Security. Production (DEBUG off) is secure by default; each value can be relaxed behind a proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _bool("BEHIND_HTTPS_PROXY", False) else None
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = _int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Tokens in paths and query strings are redacted from every record (core.logredact; CoreConfig.ready
    # adds the filter to django.server's and gunicorn's own loggers too).
    "filters": {"redact_tokens": {"()": "core.logredact.RedactTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
