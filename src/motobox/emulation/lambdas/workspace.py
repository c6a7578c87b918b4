"""Where a function's code, its layers and the runtime's SDK lie on disk while a cloud runs.

One workspace per cloud (a temporary folder, removed when the cloud stops), laid out so that
both runtimes find what Lambda's own runtimes find:

    WORKSPACE/
      node_modules/                      the host's SDK: links to @aws-sdk/* and the packages
                                         they depend on (@smithy/*, tslib, ...), found in
                                         NODE_PATH's first folder holding @aws-sdk, else the
                                         nearest node_modules/@aws-sdk above motobox's working
                                         directory (Node's walk up to parent folders finds it,
                                         so ES modules, which ignore NODE_PATH, import it too);
                                         that folder's other packages are not linked, as
                                         Lambda's runtime has only its SDK
      python/                            boto3, botocore, s3transfer and their pure-Python
                                         dependencies, linked from motobox's interpreter (never
                                         moto): the end of a Python function's sys.path, as
                                         /var/runtime is on Lambda
      layers/SHA/                        each layer version's zip, extracted once
      functions/
        node_modules/cfn-response/       AWS's module for inline Node.js code (``cfn_response.js``)
        SHA/                             a function's code (LAMBDA_TASK_ROOT), extracted once per
                                         code and runtime family

CloudFormation inline code (``Code.ZipFile`` text) reaches us as moto zips it: ``index.py``
plus AWS's ``cfnresponse.py``, whatever the runtime. For a nodejs function that zip gets an
``index.js`` with the same text, which is what Lambda runs.

A zip's paths are made safe by ``zipfile`` (no absolute paths, no ``..``); the executable bits
it records are kept (functions that ship a binary run it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import threading
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: What boto3 needs, as Lambda's Python runtime ships it in /var/runtime.
PYTHON_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
INLINE = {"index.py", "cfnresponse.py"}


class Workspace:
    def __init__(self, root: Path, node_path: str) -> None:
        self.root = root
        self._lock = threading.Lock()
        (root / "functions" / "node_modules" / "cfn-response").mkdir(parents=True)
        shutil.copyfile(
            HERE / "cfn_response.js",
            root / "functions" / "node_modules" / "cfn-response" / "index.js",
        )
        (root / "layers").mkdir()
        self.python_sdk = root / "python"
        self.python_sdk.mkdir()
        for name in PYTHON_SDK:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                continue
            source = Path(spec.origin)
            if source.name == "__init__.py":
                source = source.parent
            (self.python_sdk / source.name).symlink_to(source)
        #: The host's Node SDK folder: NODE_PATH's first folder holding @aws-sdk, else the
        #: nearest ``node_modules/@aws-sdk`` above motobox's working directory (where Node
        #: itself would find a project's packages); None when neither has it.
        self.node_sdk: str | None = None
        self._node_path = node_path
        self._start = Path.cwd()
        self._sdk_seen: float | None = None
        self.find_node_sdk()

    def find_node_sdk(self) -> str | None:
        """``node_sdk``, looked for again while none is found (an ``npm install`` in the
        project after the cloud started counts, as the hint of a missing SDK promises), its
        packages linked again when its ``@aws-sdk`` folder changed."""
        with self._lock:
            if self.node_sdk is None:
                self.node_sdk = node_sdk(self._node_path, self._start)
            if self.node_sdk is not None:
                folder = Path(self.node_sdk).resolve()
                try:
                    changed = (folder / "@aws-sdk").stat().st_mtime
                except OSError:
                    return self.node_sdk
                if changed != self._sdk_seen:
                    link_node_sdk(folder, self.root / "node_modules")
                    self._sdk_seen = changed
            return self.node_sdk

    @property
    def node_modules(self) -> Path:
        """Where ``cfn-response`` lies (a NODE_PATH entry as well as a parent folder)."""
        return self.root / "functions" / "node_modules"

    def function(self, code: bytes, language: str) -> Path:
        """The task root of ``code`` (a zip) for a ``language`` runtime."""
        digest = hashlib.sha256(code).hexdigest()[:32]
        target = self.root / "functions" / f"{digest}-{language}"
        with self._lock:
            if not target.exists():
                names = _extract(code, target)
                if language == "node" and names == INLINE:
                    shutil.copyfile(target / "index.py", target / "index.js")
        return target

    def layer(self, code: bytes) -> Path:
        digest = hashlib.sha256(code).hexdigest()[:32]
        target = self.root / "layers" / digest
        with self._lock:
            if not target.exists():
                _extract(code, target)
        return target


def node_sdk(node_path: str, start: Path) -> str | None:
    """Where the Node.js functions' AWS SDK lies (see ``Workspace.node_sdk``)."""
    for folder in filter(None, node_path.split(os.pathsep)):
        if (Path(folder) / "@aws-sdk").is_dir():
            return folder
    for parent in (start, *start.parents):
        if (parent / "node_modules" / "@aws-sdk").is_dir():
            return str(parent / "node_modules")
    return None


def node_sdk_packages(folder: Path) -> list[str]:
    """The names of ``@aws-sdk/*`` in the ``node_modules`` folder ``folder`` and of the
    packages they depend on that lie there too (Lambda's Node.js runtime ships the SDK with
    its dependencies, nothing else)."""
    names = [f"@aws-sdk/{p.name}" for p in sorted((folder / "@aws-sdk").iterdir()) if p.is_dir()]
    seen = set(names)
    while names:
        name = names.pop()
        try:
            manifest = json.loads((folder / name / "package.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        wanted = {
            **(manifest.get("optionalDependencies") or {}),
            **(manifest.get("dependencies") or {}),
        }
        for dependency in wanted:
            if dependency not in seen and (folder / dependency / "package.json").is_file():
                seen.add(dependency)
                names.append(dependency)
    return sorted(seen)


def link_node_sdk(folder: Path, target: Path) -> None:
    """Links in ``target`` to the SDK's packages in ``folder`` (``node_sdk_packages``)."""
    for name in node_sdk_packages(folder):
        link = target / name
        if link.is_symlink() or link.exists():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(folder / name)


def _extract(code: bytes, target: Path) -> set[str]:
    """Extract the zip ``code`` into ``target`` (atomically: a half-written folder is never
    seen); the names it holds."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        archive.extractall(partial)
        for info in archive.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode & 0o111 and not info.is_dir():
                path = partial / info.filename
                if path.is_file():
                    path.chmod(path.stat().st_mode | 0o755)
        names = {info.filename for info in archive.infolist() if not info.is_dir()}
    partial.rename(target)
    return names


def python_layer_paths(layer: Path, version: tuple[int, int]) -> list[str]:
    """A layer's folders on sys.path, as /opt/python/lib/python3.X/site-packages and
    /opt/python are on Lambda."""
    return [
        str(layer / "python" / "lib" / f"python{version[0]}.{version[1]}" / "site-packages"),
        str(layer / "python"),
    ]


def node_layer_paths(layer: Path, version: tuple[int, int]) -> list[str]:
    """A layer's folders on NODE_PATH, as /opt/nodejs/nodeNN/node_modules and
    /opt/nodejs/node_modules are on Lambda."""
    return [
        str(layer / "nodejs" / f"node{version[0]}" / "node_modules"),
        str(layer / "nodejs" / "node_modules"),
    ]
