"""The systemd units of deploy/systemd (issue 15), checked three ways:

- systemd's own checker (`systemd-analyze verify`) accepts every unit, in a scratch root laid out as the
  units expect (/srv/dxplan/app, /etc/dxplan/*.env from deploy/env's examples);
- every variable a unit's command uses is set by the environment files it reads;
- the units' own ExecStart lines, expanded as systemd expands them (environment files in order, then
  Environment=, then ${VAR} and the %i/%H specifiers), start a web node that serves, a worker that answers a
  ping and a beat that starts its scheduler, on the test database and this run's Redis key prefix.

systemd does not run as PID 1 here, so the services are not started by systemd itself; what the test runs
is exactly the command, working directory and environment systemd would give them.
"""
from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import production_env
from tests.servers import ROOT, Process, free_port, http_get, strict, wait_listening

UNITS = ROOT / "deploy" / "systemd"
ENV_EXAMPLES = ROOT / "deploy" / "env"
APP = "/srv/dxplan/app"
ETC = "/etc/dxplan"
SLOW_START = 180  # seconds: a ceiling for starting a process or answering its first request
SERVICES = ("dxplan-web.service", "dxplan-worker@.service", "dxplan-beat.service", "dxplan-backup.service")


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file as (key, value) lists, with continuation lines joined as systemd joins them."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith(("#", ";"))):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def env_example(unit_path: str) -> Path:
    """/etc/dxplan/web.env → deploy/env/web.env.example"""
    assert unit_path.startswith(ETC + "/"), unit_path
    return ENV_EXAMPLES / (Path(unit_path).name + ".example")


def unit_values(unit: dict[str, list[tuple[str, str]]], key: str) -> list[str]:
    return [value for k, value in unit.get("Service", []) if k == key]


def expand(command: str, env: dict[str, str], *, instance: str = "", host: str = "") -> list[str]:
    """ExecStart as systemd runs it: specifiers first, then ${VAR} (one word) and $VAR, then split in words."""
    env = {"MAINPID": "1", **env}  # set by systemd itself (ExecReload=/bin/kill -HUP $MAINPID)
    command = command.replace("%%", "\0").replace("%i", instance).replace("%H", host).replace("\0", "%")

    def variable(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in env:
            raise KeyError(f"{name} is used by the unit but set by none of its environment files")
        return env[name]

    return [re.sub(r"\$\{(\w+)\}|\$(\w+)", variable, word) for word in shlex.split(command)]


def unit_environment(unit: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """What the unit's EnvironmentFile= examples and Environment= lines set, in systemd's order."""
    env: dict[str, str] = {}
    for path in unit_values(unit, "EnvironmentFile"):
        env.update(read_env_file(env_example(path.lstrip("-"))))
    for assignment in unit_values(unit, "Environment"):
        for word in shlex.split(assignment):
            key, _, value = word.partition("=")
            env[key] = value
    return env


# --- the unit files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_a_unit_uses_is_set_by_its_environment_files(name):
    unit = parse_unit(UNITS / name)
    files = unit_values(unit, "EnvironmentFile")
    assert files, f"{name} reads no environment file"
    for path in files:
        assert env_example(path.lstrip("-")).exists(), f"{name} reads {path}, which deploy/env does not document"
    env = unit_environment(unit)
    commands = unit_values(unit, "ExecStart")
    assert len(commands) == 1, f"{name}: one ExecStart expected, found {commands}"
    argv = expand(commands[0], env, instance="1", host="web1")  # raises on a variable nobody sets
    assert argv[0].startswith(APP + "/"), f"{name} runs {argv[0]}, outside {APP}"
    assert unit_values(unit, "WorkingDirectory") == [APP]


def test_the_timer_starts_the_backup_service():
    timer = parse_unit(UNITS / "dxplan-backup.timer")
    assert ("OnCalendar" in dict(timer["Timer"])), "the backup timer has no schedule"
    assert dict(timer["Timer"]).get("Unit", "dxplan-backup.service") == "dxplan-backup.service"
    assert (UNITS / "dxplan-backup.service").exists()


def _scratch_root(root: Path) -> None:
    """A root laid out as the units expect, for `systemd-analyze verify --root`: the units under
    /etc/systemd/system, systemd's own targets, the environment files and an executable at every path an
    ExecStart names (verify checks that each command exists and is executable)."""
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS.iterdir():
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    (root / ETC.lstrip("/")).mkdir(parents=True)
    for example in ENV_EXAMPLES.glob("*.example"):
        shutil.copy(example, root / ETC.lstrip("/") / example.name.removesuffix(".example"))
    for system_dir in ("/usr/lib/systemd/system", "/lib/systemd/system"):
        if Path(system_dir).is_dir():
            shutil.copytree(system_dir, root / "usr/lib/systemd/system", dirs_exist_ok=True, symlinks=True)
            break
    for name in SERVICES:
        unit = parse_unit(UNITS / name)
        env = unit_environment(unit)
        for key in ("ExecStart", "ExecReload", "ExecStop"):
            for command in unit_values(unit, key):
                binary = root / expand(command, env, instance="1", host="web1")[0].lstrip("/")
                binary.parent.mkdir(parents=True, exist_ok=True)
                binary.write_text("#!/bin/sh\n")
                binary.chmod(0o755)
    (root / "srv/dxplan/var").mkdir(parents=True, exist_ok=True)


def _analyze() -> str:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze is not installed (Debian: apt-get install systemd)"
        if strict():
            pytest.fail(message)
        pytest.skip(message)
    return analyze


def test_systemd_accepts_every_unit(tmp_path):
    analyze = _analyze()
    _scratch_root(tmp_path)
    names = [n.replace("@.service", "@1.service") for n in SERVICES] + ["dxplan-backup.timer"]
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [analyze, "verify", "--man=no", f"--root={tmp_path}", *(f"/etc/systemd/system/{n}" for n in names)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # verify warns (and still exits 0) about unknown keys and values it ignores: none is allowed.
    assert (result.stdout + result.stderr).strip() == ""


def test_the_checker_would_see_a_mistake(tmp_path):
    """The check above can fail: an unknown key in a unit is reported."""
    analyze = _analyze()
    _scratch_root(tmp_path)
    web = tmp_path / "etc/systemd/system/dxplan-web.service"
    web.write_text(web.read_text().replace("Restart=always", "Restart=allways"))
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [analyze, "verify", "--man=no", f"--root={tmp_path}", "/etc/systemd/system/dxplan-web.service"],
        capture_output=True, text=True, check=False,
    )
    assert "allways" in result.stdout + result.stderr


# --- the units' commands, run ---------------------------------------------------------------------------


def _run_unit(name: str, overrides: dict[str, str], log: Path, *, instance: str = "") -> Process:
    """Start a unit's ExecStart with its environment as systemd builds it, then this run's overrides (the
    test database, Redis prefix, ports), with /srv/dxplan/app mapped to this checkout."""
    unit = parse_unit(UNITS / name)
    env = {**unit_environment(unit), **overrides}
    argv = expand(unit_values(unit, "ExecStart")[0], env, instance=instance, host=socket.gethostname())
    binaries = str(Path(sys.executable).parent)
    argv[0] = argv[0].replace(f"{APP}/.venv/bin", binaries).replace(APP, str(ROOT))
    process_env = {**production_env(), **env}
    for key, value in process_env.items():
        process_env[key] = value.replace("/srv/dxplan/var", overrides["DXPLAN_VAR_DIR"])
    return Process(name, argv, process_env, log, cwd=ROOT).start()


def _wait_log(process: Process, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in process.log.read_text(errors="replace"):
            return
        if not process.alive:
            break
        time.sleep(0.2)
    raise AssertionError(f"{process.name} did not log {text!r}:\n{process.tail()}")


@pytest.mark.integration
def test_the_units_commands_start_a_web_node_a_worker_and_a_beat(
    deploy_env, static_root, tmp_path, transactional_db, broker
):
    from dxplan.celery import app

    url, prefix = broker
    port = free_port()
    var = tmp_path / "var"
    var.mkdir()
    overrides = {
        **{k: v for k, v in production_env().items() if k in ("DATABASE_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")},
        "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": f"http://127.0.0.1:{port}", "CSRF_TRUSTED_ORIGINS": "",
        "CELERY_BROKER_URL": url, "CELERY_BROKER_KEY_PREFIX": prefix, "EMAIL_URL": "consolemail://",
        "CACHE_URL": "locmemcache://",
        "DXPLAN_VAR_DIR": str(var), "STATIC_ROOT": str(static_root), "MEDIA_ROOT": str(tmp_path / "media"),
        "DXPLAN_BIND": f"127.0.0.1:{port}", "DXPLAN_PROXY_ADDRESSES": "127.0.0.1", "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1", "AWS_STORAGE_BUCKET_NAME": "", "DXPLAN_REQUIRE_2FA": "false",
        "BEHIND_HTTPS_PROXY": "false", "SECURE_SSL_REDIRECT": "false", "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    processes = []
    try:
        web = _run_unit("dxplan-web.service", overrides, tmp_path / "web.log")
        processes.append(web)
        worker = _run_unit("dxplan-worker@.service", overrides, tmp_path / "worker.log", instance="7")
        processes.append(worker)
        beat = _run_unit("dxplan-beat.service", overrides, tmp_path / "beat.log")
        processes.append(beat)

        # The waits are upper bounds for a machine busy with the rest of CI (a first request there once
        # took 12 s while a gunicorn worker imported Django); an idle machine passes them in seconds.
        wait_listening(port, web.proc, timeout=SLOW_START, log=web.log)
        status, _, body = http_get(f"http://127.0.0.1:{port}/healthz", timeout=SLOW_START)
        assert status == 200, body
        status, _, body = http_get(f"http://127.0.0.1:{port}/", headers={"Accept-Language": "ja"},
                                   timeout=SLOW_START)
        assert status == 200, body[:500]
        web_log = web.log.read_text(errors="replace")
        assert web_log.count("Booting worker") >= 2, web.tail()  # WEB_CONCURRENCY from web.env

        _wait_log(worker, "ready.", timeout=SLOW_START)
        name = f"worker7@{socket.gethostname()}"  # --hostname worker%i@%H
        replies = []
        deadline = time.monotonic() + 60
        while not replies and time.monotonic() < deadline:
            replies = app.control.ping(destination=[name], timeout=2)
        assert replies and name in replies[0], f"no pong from {name}: {replies}\n{worker.tail()}"

        _wait_log(beat, "beat: Starting", timeout=SLOW_START)
        _wait_log(beat, "DatabaseScheduler", timeout=60)
        assert beat.alive and not (var / "celerybeat.pid").exists()  # --pidfile= : none written
    finally:
        for process in processes:
            process.stop()
