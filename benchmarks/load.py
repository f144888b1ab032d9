"""Load benchmark: 50 concurrent clients on pages, the JSON API and the serving front door,
with and without a large import running, on SQLite and PostgreSQL, under `assay_serve`
(embedded defaults: runserver, database task worker) and its production mode (gunicorn,
RQ worker).

    .venv/bin/python benchmarks/load.py                        # all four set-ups, ~10 min
    .venv/bin/python benchmarks/load.py --setups sqlite-serve --import-rows 50000 \\
        --quiet-seconds 10 --output /tmp/load.json            # a quick look

For each set-up, in a temporary folder (and a fresh PostgreSQL database, dropped after):
migrate; create an admin, an API token, a project of `--examples` examples with an approved
version, a tiny BERT classifier deployed through `deployment_start` (built-in engine) and an
application key; start the platform as the README says; log every client in through the
login page (session cookie). Then each client loops over a page (project overview, examples
list), an API call (project detail, examples) and a `/v1/classifications` request:

1. `quiet`: for `--quiet-seconds`, nothing else running (the anchor);
2. `import`: while `manage.py assay_import` loads `--import-rows` generated rows into a
   second project in one all-or-nothing transaction.

An error is any answer other than 200 or a request that failed or took over `--timeout`
seconds; "database is locked" is counted in the server's own log. Prints a table and writes
benchmarks/results/load.json: per set-up, phase and kind the count, errors, p50 / p95 / max
seconds and the ratio of each to the same kind's `quiet` figure from the same run.
"""

import argparse
import asyncio
import csv
import datetime
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "load.json"
SETUPS = ("sqlite-serve", "sqlite-gunicorn", "postgres-serve", "postgres-gunicorn")
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
KINDS = ("page", "api", "serving")
WORDS = (
    "free call now win prize claim text reply stop cash offer urgent meeting tonight lunch "
    "later sorry home love thanks please week phone number message mobile today tomorrow"
).split()


def write_csv(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for n in range(rows):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20)))
            writer.writerow([f"{text} {n}", rng.choice(("ham", "spam"))])


def tiny_classifier(folder: Path) -> Path:
    """A 2-layer BERT (hidden 32) with a BPE tokenizer: no download, loads in a second."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<pad>", "<unk>", "</s>"], show_progress=False
    )
    tokenizer.train_from_iterator([" ".join(WORDS)] * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    config = BertConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=fast.pad_token_id,
    )
    BertModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def setup_platform(work: Path, examples: int) -> dict:
    """Runs in a child process with the set-up's environment (see ``main``): the objects
    the clients use, made through Assay's own commands and services."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.utils import timezone

    from curation.models import DatasetVersion, Project, Run, RunStatus
    from curation.services.api_tokens import api_token_create
    from serving.models import Deployment
    from serving.services.applications import application_create
    from serving.services.deployments import deployment_start
    from training.models import TrainingRun

    password = secrets.token_urlsafe(12)
    user = get_user_model().objects.create_superuser("load", "load@example.org", password)
    write_csv(work / "small.csv", examples, seed=1)
    for name in ("Load", "Bulk"):
        call_command(
            "assay_project_create",
            name=name,
            task_type="classification",
            labels="ham,spam",
            verbosity=0,
        )
    call_command("assay_import", "Load", str(work / "small.csv"), verbosity=0)
    call_command("assay_version_build", "Load", verbosity=0)
    project = Project.objects.get(name="Load")
    version = DatasetVersion.objects.get(project=project)
    # Review is not what this benchmark measures: the version is marked approved directly.
    DatasetVersion.objects.filter(pk=version.pk).update(status="approved")
    model_dir = tiny_classifier(work / "tiny-bert")
    training_run = TrainingRun.objects.create(
        project=project,
        version=version,
        version_hash=version.content_hash,
        task_type="classification",
        method="full",
        base_model=str(model_dir),
        config={"labels": ["ham", "spam"], "max_length": 64},
        output_dir="",
        artifact_path=str(model_dir),
        artifact_kind="full weights",
        finished_at=timezone.now(),
    )
    run = Run.objects.create(
        kind="training",
        status=RunStatus.SUCCEEDED,
        project=project,
        target_type=ContentType.objects.get_for_model(TrainingRun),
        target_id=training_run.pk,
    )
    TrainingRun.objects.filter(pk=training_run.pk).update(run=run)
    training_run.refresh_from_db()
    deployment = deployment_start(training_run=training_run, name="load-bot", created_by=user)
    deployment.refresh_from_db()
    assert deployment.status == Deployment.Status.ACTIVE, deployment.error
    _app, app_key = application_create(project=project, name="load")
    _token, token = api_token_create(user=user, name="load")
    return {"password": password, "token": token, "app_key": app_key, "project": project.pk}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_env(name: str, work: Path, port: int, database: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "ASSAY_DATA_DIR": str(work / "data"),
        "ASSAY_HOST": "127.0.0.1",
        "ASSAY_PORT": str(port),
        "LABEL_STUDIO_ENABLED": "false",
        "ASSAY_LOOP_TICK_SECONDS": "0",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for variable in ("DATABASE_URL", "ASSAY_DATABASE_NAME", "DJANGO_SETTINGS_MODULE"):
        env.pop(variable, None)
    if database:
        env["DATABASE_URL"] = database
    if name.endswith("gunicorn"):  # the README's "Run in production", over plain HTTP
        env.update(
            DJANGO_SETTINGS_MODULE="curation.settings.prod",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1",
            ASSAY_TASK_BACKEND="rq",
            REDIS_URL="redis://127.0.0.1:6379/13",
            SECURE_SSL_REDIRECT="false",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            PROMETHEUS_MULTIPROC_DIR=str(work / "prometheus"),
        )
        (work / "prometheus").mkdir()
    else:
        env["DJANGO_SETTINGS_MODULE"] = "curation.settings.dev"
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 900) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


async def log_in(client: httpx.AsyncClient, password: str) -> None:
    await client.get("/login/")
    response = await client.post(
        "/login/",
        data={
            "username": "load",
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": f"{client.base_url}/login/"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code} {response.text[:300]}")


def requests_for(kind: str, n: int, project: int) -> tuple[str, str, dict | None]:
    if kind == "page":
        path = f"/projects/{project}/" if n % 2 else f"/projects/{project}/examples/"
        return "GET", path, None
    if kind == "api":
        path = f"/api/projects/{project}" if n % 2 else f"/api/projects/{project}/examples"
        return "GET", path, None
    body = {"model": "load-bot", "input": [f"win a free prize now {n}", f"lunch later {n}"]}
    return "POST", "/v1/classifications", body


async def client_loop(client, creds, index, stop, samples, timeout) -> None:
    n = index
    while not stop.is_set():
        kind = KINDS[n % len(KINDS)]
        method, path, body = requests_for(kind, n // len(KINDS), creds["project"])
        headers = {}
        if kind == "api":
            headers["Authorization"] = f"Bearer {creds['token']}"
        elif kind == "serving":
            headers["Authorization"] = f"Bearer {creds['app_key']}"
        started = time.perf_counter()
        try:
            response = await client.request(
                method, path, json=body, headers=headers, timeout=timeout
            )
            outcome = "ok" if response.status_code == 200 else f"http {response.status_code}"
        except httpx.TimeoutException:
            outcome = "timeout"
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        samples.append((kind, time.perf_counter() - started, outcome))
        n += 1


async def drive(base_url: str, creds: dict, clients: int, timeout: float, phases) -> dict:
    """Log ``clients`` clients in, warm every server process up, then run each phase:
    ``phases`` is a list of (name, until) where ``until`` is a coroutine that returns when
    the phase should end. Returns {phase: [(kind, seconds, outcome), ...]}."""
    limits = httpx.Limits(max_connections=4)
    pool = [httpx.AsyncClient(base_url=base_url, limits=limits) for _ in range(clients)]
    try:
        for client in pool:
            await log_in(client, creds["password"])
        warm: list = []
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(client_loop(c, creds, i, stop, warm, 120))
            for i, c in enumerate(pool)
        ]
        await asyncio.sleep(15)  # every gunicorn worker loads Django and the model
        stop.set()
        await asyncio.gather(*tasks)
        results = {}
        for name, until in phases:
            samples: list = []
            stop = asyncio.Event()
            started = time.monotonic()
            tasks = [
                asyncio.create_task(client_loop(c, creds, i, stop, samples, timeout))
                for i, c in enumerate(pool)
            ]
            extra = await until()
            stop.set()
            await asyncio.gather(*tasks)
            results[name] = {"samples": samples, "seconds": time.monotonic() - started, **extra}
        return results
    finally:
        for client in pool:
            await client.aclose()


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(samples: list) -> dict:
    out = {}
    for kind in KINDS:
        seconds = [s for k, s, _ in samples if k == kind]
        errors: dict[str, int] = {}
        for k, _s, outcome in samples:
            if k == kind and outcome != "ok":
                errors[outcome] = errors.get(outcome, 0) + 1
        out[kind] = {
            "requests": len(seconds),
            "errors": sum(errors.values()),
            "error_kinds": errors,
            "p50_s": round(percentile(seconds, 50), 4),
            "p95_s": round(percentile(seconds, 95), 4),
            "max_s": round(max(seconds), 4) if seconds else None,
        }
    return out


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"no /healthz within 240 s:\n{log.read_text()[-3000:]}")


def run_setup(name: str, args, work: Path) -> dict:
    database = None
    db_name = f"assay_load_{os.getpid()}_{name.split('-')[1]}"
    if name.startswith("postgres"):
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            admin.execute(f'CREATE DATABASE "{db_name}"')
        database = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{db_name}"
    port = free_port()
    env = setup_env(name, work, port, database)
    try:
        manage(env, "migrate", "--no-input")
        creds = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--setup-into",
                    str(work),
                    "--examples",
                    str(args.examples),
                ],
                cwd=REPO_ROOT,
                env={**env, "ASSAY_TASK_BACKEND": "immediate"},
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        write_csv(work / "bulk.csv", args.import_rows, seed=2)
        log = work / "server.log"
        with open(log, "w") as output:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "assay_serve"],
                cwd=REPO_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, server, log)
            result = asyncio.run(
                drive(url, creds, args.clients, args.timeout, phases(args, env, work))
            )
        finally:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        server_log = log.read_text(errors="replace")
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, args.logs / f"{name}.log")
    finally:
        if database:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    return {
        "database": "PostgreSQL" if database else "SQLite (WAL)",
        "server": "assay_serve, prod settings: gunicorn + RQ worker"
        if name.endswith("gunicorn")
        else "assay_serve, embedded defaults: runserver + database worker",
        **lock_counts(server_log),
        "server_errors_in_log": len(re.findall(r"Traceback|Internal Server Error", server_log)),
        "phases": {
            phase: {
                "seconds": round(data["seconds"], 1),
                **{k: v for k, v in data.items() if k not in {"samples", "seconds"}},
                "kinds": summarise(data["samples"]),
            }
            for phase, data in result.items()
        },
    }


def lock_counts(server_log: str) -> dict[str, int]:
    """'database is locked' raised as an error (a traceback line) versus waited out and
    logged (the request log's writer and the task worker retry, saying so)."""
    return {
        "database_is_locked_errors": len(
            re.findall(r"OperationalError: database is locked", server_log)
        ),
        "lock_waits_logged": len(
            re.findall(r"(?:waits for the database|polling again): database is locked", server_log)
        ),
    }


def phases(args, env, work: Path):
    async def quiet() -> dict:
        await asyncio.sleep(args.quiet_seconds)
        return {}

    async def during_import() -> dict:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "manage.py",
            "assay_import",
            "Bulk",
            str(work / "bulk.csv"),
            cwd=REPO_ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        text = output.decode(errors="replace")
        return {
            "import_rows": args.import_rows,
            "import_seconds": round(time.monotonic() - started, 1),
            "import_ok": process.returncode == 0,
            "import_output": text.strip().splitlines()[:2],
        }

    return [("quiet", quiet), ("import", during_import)]


def with_ratios(setup: dict) -> None:
    """Each phase's p50/p95 against the same kind's quiet figures (the anchor)."""
    quiet = setup["phases"]["quiet"]["kinds"]
    for phase in setup["phases"].values():
        for kind, figures in phase["kinds"].items():
            for q in ("p50_s", "p95_s"):
                anchor = quiet[kind][q]
                figures[f"{q[:3]}_x_quiet"] = round(figures[q] / anchor, 2) if anchor else None


def print_table(results: dict) -> None:
    print(
        f"{'set-up':<18} {'phase':<7} {'kind':<8} {'n':>6} {'err':>4} "
        f"{'p50 s':>7} {'p95 s':>7} {'p95 x quiet':>11}"
    )
    for name, setup in results.items():
        for phase, data in setup["phases"].items():
            for kind, f in data["kinds"].items():
                print(
                    f"{name:<18} {phase:<7} {kind:<8} {f['requests']:>6} {f['errors']:>4} "
                    f"{f['p50_s']:>7.3f} {f['p95_s']:>7.3f} {f['p95_x_quiet']:>11}"
                )
        print(
            f"{name}: 'database is locked' raised {setup['database_is_locked_errors']}, "
            f"waited out {setup['lock_waits_logged']}; import "
            f"{setup['phases']['import'].get('import_seconds')} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", nargs="+", choices=SETUPS, default=list(SETUPS))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=120_000)
    parser.add_argument("--examples", type=int, default=5_000)
    parser.add_argument("--quiet-seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=30, help="seconds; longer = error")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--logs", type=Path, help="keep each set-up's server log here")
    parser.add_argument("--setup-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup_into:
        sys.path.insert(0, str(REPO_ROOT))
        print(json.dumps(setup_platform(args.setup_into, args.examples)))
        return
    results = {}
    for name in args.setups:
        work = Path(tempfile.mkdtemp(prefix=f"assay-load-{name}-"))
        try:
            print(f"--- {name}", flush=True)
            results[name] = run_setup(name, args, work)
            with_ratios(results[name])
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    report = {
        "benchmark": "load",
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "settings": {
            k: getattr(args, k)
            for k in ("clients", "import_rows", "examples", "quiet_seconds", "timeout")
        },
        "anchor": "the same kind of request, same server, with no import running (phase quiet)",
        "setups": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
