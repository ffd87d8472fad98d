"""The deployment files: docker-compose.yml, the database init script, the env example.

No Docker engine is needed: the compose file is validated against the Compose specification
(check-jsonschema's vendored compose-spec schema) and its content is checked as data.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
INIT_SCRIPT = REPO / "deploy" / "postgres" / "init" / "01-roles.sh"
ENV_EXAMPLE = REPO / "deploy" / "env.example"
DOCKERFILE = REPO / "deploy" / "airflow" / "Dockerfile"

AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
AIRFLOW_SERVICES = (*AIRFLOW_COMMANDS, "airflow-init", "airflow-worker")

#: A required compose variable: ``${NAME:?message}`` (compose refuses to start without it).
REQUIRED_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}")
#: Any compose variable reference, ``$${...}`` (an escaped dollar) excluded.
ANY_REF = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
#: ``scheme://user:password@host`` in any string; the password may itself be a ``${...}`` reference.
URL_USERINFO = re.compile(r"[a-z][a-z0-9+.-]*://(?P<userinfo>[^\s/@]*(?:\$\{[^}]*\}[^\s/@]*)*)@")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _strings(node, path: str = ""):
    """Every (path, string) of a parsed YAML document, keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", str(key)
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def _volume_mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of each volume entry, short or long syntax."""
    mounts = []
    for entry in service.get("volumes", []):
        if isinstance(entry, str):
            parts = entry.split(":")
            source, target = parts[0], parts[1]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        else:
            source, target, read_only = entry.get("source", ""), entry["target"], bool(entry.get("read_only"))
        mounts.append((source, target, read_only))
    return mounts


def _sql_of(script: str) -> str:
    """The SQL heredocs of the init script."""
    blocks = re.findall(r"<<-?'?(\w+)'?\n(.*?)\n\1\n", script, flags=re.S)
    assert blocks, "the init script feeds psql no heredoc"
    return "\n".join(body for _, body in blocks)


# --- specification --------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification():
    checker = Path(sys.executable).parent / "check-jsonschema"
    assert checker.exists(), f"{checker} missing: install the dev extra (check-jsonschema)"
    proc = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"check-jsonschema failed:\n{proc.stdout}\n{proc.stderr}"


# --- services --------------------------------------------------------------------------------------


def test_timescaledb_is_the_official_timescale_image_with_data_volume_and_healthcheck(compose, services):
    db = services["timescaledb"]
    image, _, tag = db["image"].partition(":")
    assert image == "timescale/timescaledb"
    assert tag and tag != "latest" and "-pg" in tag, "pin a versioned timescale/timescaledb tag"
    mounts = _volume_mounts(db)
    data_volumes = [src for src, target, _ in mounts if target == "/var/lib/postgresql/data"]
    assert data_volumes and data_volumes[0] in compose["volumes"], "database data must live in a named volume"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    init_mounts = [(src, ro) for src, target, ro in mounts if target.startswith("/docker-entrypoint-initdb.d")]
    assert init_mounts, "the init script is not mounted"
    for src, ro in init_mounts:
        assert ro, f"{src} must be mounted read-only"
        assert (REPO / src).resolve().is_relative_to(INIT_SCRIPT.parent)


def test_airflow_services_exist_with_their_commands(services):
    for name, command in AIRFLOW_COMMANDS.items():
        assert name in services, f"service {name} missing"
        assert _command(services[name]) == command, f"{name} runs {_command(services[name])!r}"
    init = _command(services["airflow-init"])
    assert "airflow db migrate" in init and "envmon db migrate" in init
    assert init.index("airflow db migrate") < init.index("envmon db migrate")
    assert "8080" in str(services["airflow-apiserver"]["ports"])


def test_airflow_services_share_one_build_and_configuration(compose, services):
    common = compose["x-airflow-common"]
    build = common["build"]
    assert (REPO / build.get("context", ".") / build["dockerfile"]).resolve() == DOCKERFILE
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"pip install .*-c \S*constraints\.txt", dockerfile.replace("\\\n", " "))
    pinned = re.search(r"^apache-airflow==(\S+)$", (REPO / "constraints.txt").read_text(), flags=re.M)
    assert pinned and build["args"]["AIRFLOW_VERSION"] == pinned.group(1), \
        "the image's Airflow must be the version constraints.txt pins"
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["build"] == build and service["image"] == common["image"], name
        env = _environment(service)
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/envmon/dags"
        assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == env["TZ"] == "Asia/Shanghai"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://airflow:")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@timescaledb:5432/airflow")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == env[
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg://", "+psycopg_async://")
        assert env["AIRFLOW_CONN_ENVMON_WAREHOUSE"].startswith("postgresql://envmon:")
        assert env["AIRFLOW_CONN_ENVMON_WAREHOUSE"].endswith("@timescaledb:5432/envmon")
        assert env["ENVMON_DATABASE_URL"] == env["AIRFLOW_CONN_ENVMON_WAREHOUSE"]
        mounts = {target: (src, ro) for src, target, ro in _volume_mounts(service)}
        for src, target in (("./dags", "/opt/envmon/dags"), ("./config", "/opt/envmon/config"),
                            ("./data", "/opt/envmon/data")):
            assert mounts.get(target) == (src, True), f"{name}: {src} must be mounted read-only at {target}"
            assert (REPO / src).is_dir()
        assert "/opt/envmon/incoming" in mounts, f"{name}: incoming directory not mounted"


def test_default_executor_is_local_and_overridable(services):
    for name in AIRFLOW_COMMANDS:
        assert _environment(services[name])["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"


def test_startup_order_uses_health_and_completion_conditions(services):
    for name in AIRFLOW_COMMANDS:
        depends = services[name]["depends_on"]
        assert depends["timescaledb"]["condition"] == "service_healthy", name
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-init"]["depends_on"]["timescaledb"]["condition"] == "service_healthy"
    assert services["airflow-init"]["restart"] == "no"
    assert services["grafana"]["depends_on"]["timescaledb"]["condition"] == "service_healthy"


def test_celery_profile_holds_redis_and_a_worker(services):
    in_profile = {name for name, s in services.items() if "celery" in s.get("profiles", [])}
    assert in_profile == {"redis", "airflow-worker"}, f"celery profile holds {sorted(in_profile)}"
    assert services["redis"]["image"].partition(":")[::2] == ("redis", "7")
    worker = services["airflow-worker"]
    assert _command(worker) == "celery worker"
    assert _environment(worker)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert _environment(worker)["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/")
    # Services outside the profile must not need it, or a plain `docker compose up` fails.
    for name, service in services.items():
        if name not in in_profile:
            assert not set(service.get("depends_on", {})) & in_profile, name


def test_grafana_mounts_provisioning_and_dashboards(compose, services):
    grafana = services["grafana"]
    assert grafana["image"].startswith("grafana/grafana:")
    assert "3000" in str(grafana["ports"])
    mounts = {target: (src, ro) for src, target, ro in _volume_mounts(grafana)}
    assert mounts["/etc/grafana/provisioning"] == ("./dashboards/provisioning", True)
    assert mounts["/var/lib/grafana/dashboards"] == ("./dashboards/json", True)
    assert (REPO / "dashboards" / "provisioning").is_dir() and (REPO / "dashboards" / "json").is_dir()
    assert mounts["/var/lib/grafana"][0] in compose["volumes"]
    env = _environment(grafana)
    for key, variable in (("GF_SECURITY_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD"),
                          ("GRAFANA_READER_PASSWORD", "GRAFANA_READER_PASSWORD")):
        ref = REQUIRED_REF.fullmatch(env.get(key, ""))
        assert ref and ref.group("name") == variable, f"grafana {key} must be ${{{variable}:?...}}"
    assert env["GF_USERS_DEFAULT_LANGUAGE"] == "zh-Hans"


# --- secrets ---------------------------------------------------------------------------------------


def test_no_literal_secret_in_the_compose_file(compose):
    checked = 0
    for service_name, service in {**compose["services"], "x-airflow-common": compose["x-airflow-common"]}.items():
        for key, value in _environment(service).items():
            if re.search(r"PASSWORD|SECRET|FERNET", key) and not key.endswith("_FILE"):
                assert REQUIRED_REF.fullmatch(value), f"{service_name}.{key} is not a ${{VAR:?...}} reference"
                checked += 1
    assert checked >= 8
    urls = 0
    for path, text in _strings(compose):
        for match in URL_USERINFO.finditer(text):
            user, colon, password = match.group("userinfo").partition(":")
            if colon:
                assert REQUIRED_REF.fullmatch(password), f"{path}: literal password in {text!r}"
                urls += 1
    assert urls >= 5


def test_services_receive_only_their_own_secrets(services):
    """No env_file: the superuser and Grafana admin passwords never reach Airflow task processes."""
    for name, service in services.items():
        assert "env_file" not in service, f"{name} would receive every secret of .env"
    for name in AIRFLOW_SERVICES:
        refs = {m.group("name") for v in _environment(services[name]).values() for m in ANY_REF.finditer(v)}
        assert not refs & {"POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "GRAFANA_READER_PASSWORD"}, name


def test_env_example_documents_every_variable_with_placeholders(compose):
    values = [text for _, text in _strings(compose)]
    needed = {m.group("name") for text in values for m in ANY_REF.finditer(text)}
    required = {m.group("name") for text in values for m in REQUIRED_REF.finditer(text)}
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    documented: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line)
        if m:
            assert i > 0 and lines[i - 1].startswith("#"), f"{m.group(1)} has no comment"
            documented[m.group(1)] = m.group(2)
    assert needed <= set(documented), f"missing from env.example: {sorted(needed - set(documented))}"
    for name in required:
        if re.search(r"PASSWORD|SECRET|KEY", name):
            assert documented[name] == "change-me", f"{name} must be a change-me placeholder"


# --- init script -----------------------------------------------------------------------------------


def test_init_script_is_valid_bash():
    bash = shutil.which("bash")
    assert bash, "bash not found"
    proc = subprocess.run([bash, "-n", str(INIT_SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_init_script_is_strict_and_executable():
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    assert script.startswith("#!") and "bash" in script.splitlines()[0]
    assert re.search(r"^set -euo pipefail$", script, flags=re.M)
    # Not executable, the entrypoint would source it into its own shell instead of running it.
    assert INIT_SCRIPT.stat().st_mode & 0o111, f"chmod +x {INIT_SCRIPT.relative_to(REPO)}"


def test_init_script_creates_databases_and_roles():
    sql = _sql_of(INIT_SCRIPT.read_text(encoding="utf-8"))
    assert "ON_ERROR_STOP=1" in INIT_SCRIPT.read_text(encoding="utf-8")
    for role in ("envmon", "airflow", "grafana_reader"):
        assert re.search(rf"CREATE ROLE {role}\b", sql)
        assert re.search(rf"ALTER ROLE {role} WITH LOGIN\b.*PASSWORD :'\w+'", sql)
    assert re.search(r"CREATE ROLE envmon_reader NOLOGIN", sql)
    assert re.search(r"pg_roles WHERE rolname = 'envmon_reader'", sql), "envmon_reader only if missing"
    # the loaders' group role of warehouse/roles.py exists before the first migration grants it anything
    assert re.search(r"CREATE ROLE envmon_ingest NOLOGIN", sql)
    assert re.search(r"pg_roles WHERE rolname = 'envmon_ingest'", sql), "envmon_ingest only if missing"
    assert re.search(r"GRANT envmon_reader TO grafana_reader", sql)
    assert re.search(r"CREATE DATABASE envmon OWNER envmon\b", sql)
    assert re.search(r"CREATE DATABASE airflow OWNER airflow\b", sql)
    after_connect = sql.split("\\connect envmon", 1)
    assert len(after_connect) == 2 and "CREATE EXTENSION IF NOT EXISTS timescaledb" in after_connect[1]


def test_init_script_takes_passwords_only_from_the_environment(services):
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    sql = _sql_of(script)
    # The heredoc is quoted: bash expands nothing inside it, psql variables do the quoting.
    assert re.search(r"<<-?'EOSQL'", script)
    passwords = re.findall(r"\bPASSWORD\s+(\S+)", sql)
    assert len(passwords) == 3
    assert all(re.fullmatch(r":'\w+';?", p) for p in passwords), passwords
    assert "$" not in re.sub(r"\$\$", "", sql), "no shell expansion or concatenation in the SQL"
    # Every psql variable is set from an environment variable, which compose passes in as required.
    assignments = dict(re.findall(r'-v (\w+)="\$\{?(\w+)\}?"', script))
    used = set(re.findall(r":'(\w+)'", sql))
    assert used <= set(assignments), f"psql variables without -v: {sorted(used - set(assignments))}"
    assert assignments == {
        "envmon_password": "ENVMON_DB_PASSWORD",
        "airflow_password": "AIRFLOW_DB_PASSWORD",
        "grafana_reader_password": "GRAFANA_READER_PASSWORD",
    }
    db_env = _environment(services["timescaledb"])
    for env_name in assignments.values():
        assert REQUIRED_REF.fullmatch(db_env[env_name]), f"timescaledb does not receive {env_name}"
    assert not re.search(r"PASSWORD\s+['\"]", script, flags=re.I)
