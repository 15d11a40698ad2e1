"""WSGI entry of bench/pages.py (DJANGO_SETTINGS_MODULE=bench_settings, set by the script)."""
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
