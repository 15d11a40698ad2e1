"""A web process (Django set up, no worker) knows the tasks that services queue by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_web_process_knows_the_tasks_queued_by_name():
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'dxplan.settings'; django.setup()\n"
        "from celery import current_app\n"
        "print('notices.tasks.deliver_batch' in current_app.tasks)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"
