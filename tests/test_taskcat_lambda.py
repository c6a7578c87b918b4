"""taskcat's Lambda packaging (``package_lambda``, true by default) without a Docker engine.

taskcat 0.9.58 asks Docker for its version before it packages anything; motobox answers on a
Unix socket of its own (``sandbox/docker.py``). Folders without a Dockerfile are zipped on the
host as taskcat does (after ``pip install -r requirements.txt -t``); a folder with a Dockerfile
gets one line that says what to do. Every run is real taskcat in a loopback-only namespace.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

from conftest import ROOT, TASKCAT, motobox, read_journal, require

LAMBDA_PROJECT = ROOT / "tests" / "projects" / "taskcat-lambda"
ZIP_KEY = "motobox-lambda/lambda_functions/packages/{}/lambda.zip"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _env(**extra: str) -> dict[str, str]:
    """The test's environment without the machine's AWS, pip and Docker settings (this
    machine's pip reads a local mirror and a wheel folder from its config files), plus
    ``extra``. ``PIP_CERT`` names the system bundle, as on machines with a corporate CA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIP_", "DOCKER_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_CERT=SYSTEM_BUNDLE, **extra)
    return env


def _taskcat(project: Path, tmp_path: Path, **env: str) -> tuple[int, str, list[dict]]:
    require(TASKCAT)
    journal = tmp_path / "calls.jsonl"
    done = motobox(
        ["run", "--journal", str(journal), "--", str(TASKCAT), "test", "run", "-o", str(tmp_path)],
        cwd=project,
        env=_env(**env),
        isolated=True,
    )
    return done.returncode, done.stdout + done.stderr, read_journal(journal)


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(LAMBDA_PROJECT, project)
    return project


def _uploads(records: list[dict]) -> dict[str, dict]:
    return {
        r["params"]["Key"]: r
        for r in records
        if r["kind"] == "aws" and r["operation"] == "PutObject" and r["status"] == 200
    }


def _uploaded_zip(records: list[dict], folder: str) -> zipfile.ZipFile:
    put = _uploads(records).get(ZIP_KEY.format(folder))
    assert put, f"no upload of {ZIP_KEY.format(folder)}: {sorted(_uploads(records))}"
    return zipfile.ZipFile(io.BytesIO(base64.b64decode(put["params"]["Body"]["base64"])))


def test_default_package_lambda_without_lambda_source_runs_without_docker(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    shutil.copy(ROOT / "examples/taskcat-project/templates/bucket.yaml", project / "templates")
    (project / ".taskcat.yml").write_text(
        "project:\n  name: no-lambda\n  regions: [ca-central-1]\n"
        "tests:\n  bucket:\n    template: templates/bucket.yaml\n"
    )
    code, log, records = _taskcat(project, tmp_path)
    assert code == 0, log[-3000:]
    assert "DockerException" not in log and "CREATE_COMPLETE" in log
    docker = [r for r in records if r["kind"] == "docker"]
    assert docker and docker[0]["path"] == "/version" and docker[0]["action"] == "answer"


def test_lambda_source_folder_is_zipped_on_the_host_and_uploaded(tmp_path: Path) -> None:
    project = _project(tmp_path)
    code, log, records = _taskcat(project, tmp_path)
    assert code == 0, log[-3000:]
    # The function's code is read from the uploaded object: the stack completes only with it.
    assert "CREATE_COMPLETE" in log and "DELETE_COMPLETE" in log
    source = (project / "lambda_functions/source/hello/app.py").read_bytes()
    uploaded = _uploaded_zip(records, "hello")
    assert uploaded.namelist() == ["app.py"] and uploaded.read("app.py") == source
    local = project / "lambda_functions/packages/hello/lambda.zip"
    put = _uploads(records)[ZIP_KEY.format("hello")]
    assert base64.b64decode(put["params"]["Body"]["base64"]) == local.read_bytes()
    assert not [r for r in records if r["kind"] == "docker" and r["action"] != "answer"]


def test_lambda_folder_with_a_dockerfile_fails_with_one_line_saying_what_to_do(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    image = project / "lambda_functions/source/image"
    image.mkdir()
    (image / "Dockerfile").write_text("FROM public.ecr.aws/lambda/python:3.12\nCOPY . /output/\n")
    code, log, records = _taskcat(project, tmp_path)
    assert code == 1, log[-3000:]
    lines = [line for line in log.splitlines() if "motobox: taskcat's docker build" in line]
    assert len(lines) == 1, log[-3000:]
    line = lines[0]
    for words in ("needs a Docker engine", "DOCKER_HOST=", "TASKCAT_PROJECT_PACKAGE_LAMBDA=false"):
        assert words in line, line
    refused = [r for r in records if r["kind"] == "docker" and r["action"] == "refuse"]
    assert len(refused) == 1 and refused[0]["status"] == 501
    assert refused[0]["image"].startswith("taskcat-build-") and refused[0]["image"] in line
    assert not [r for r in records if r["kind"] == "aws" and r["operation"] == "CreateStack"]


def test_requirements_without_a_wheelhouse_fail_on_the_denied_package_index(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    deps = project / "lambda_functions/source/deps"
    deps.mkdir()
    (deps / "requirements.txt").write_text("six==1.16.0\n")
    code, log, records = _taskcat(project, tmp_path)
    assert code == 1 and "pip build failed" in log, log[-3000:]
    # pip reached the egress control through the proxy and was answered 403 (a PIP_CERT
    # of the user's does not stop it: pip's requests lets REQUESTS_CA_BUNDLE win).
    index = [r for r in records if r["kind"] == "egress" and "/simple/six/" in r["url"]]
    assert index and index[0]["action"] == "deny" and index[0]["status"] == 403


def _wheel(folder: Path, name: str, version: str, code: str) -> Path:
    """A pure-Python wheel written by hand (building one would need setuptools from the net)."""
    files = {
        f"{name}/__init__.py": code.encode(),
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ).encode(),
        f"{name}-{version}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: motobox-test\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = "".join(f"{p},sha256={digest(d)},{len(d)}\n" for p, d in files.items())
    files[f"{name}-{version}.dist-info/RECORD"] = (
        record + f"{name}-{version}.dist-info/RECORD,,\n"
    ).encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in files.items():
            wheel.writestr(member, data)
    return path


def test_requirements_install_from_a_wheelhouse_given_with_pip_variables(tmp_path: Path) -> None:
    project = _project(tmp_path)
    deps = project / "lambda_functions/source/deps"
    deps.mkdir()
    (deps / "app.py").write_text("import motobox_wheel_dep\n")
    (deps / "requirements.txt").write_text("motobox_wheel_dep==1.0\n")
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    _wheel(wheelhouse, "motobox_wheel_dep", "1.0", "ANSWER = 42\n")
    code, log, records = _taskcat(
        project, tmp_path, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse)
    )
    assert code == 0, log[-3000:]
    names = _uploaded_zip(records, "deps").namelist()
    assert "app.py" in names and "motobox_wheel_dep/__init__.py" in names, names
    assert not [r for r in records if r["kind"] == "egress" and "/simple/" in r["url"]]
