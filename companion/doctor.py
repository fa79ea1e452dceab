"""``python -m companion doctor``: what this machine offers the book.

Reports the versions of Python and the frameworks, every installed version
against its pin in requirements.txt, CPU threads, the accelerators PyTorch and
TensorFlow each see, the device the book will use, and which of the offline
data sources the chapters read are installed. Every probe is guarded: a missing
framework is reported, not raised, so the doctor runs on a half-set-up machine,
which is exactly when it is needed. It exits with status 1 when a pinned
package or a data source is missing (a version other than the pin is reported
but does not fail), and it says on stderr what it is importing, since
TensorFlow takes several seconds.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from companion.data.sources import cache_dir, source_status


@dataclass
class Report:
    """What :func:`diagnose` found. ``sections`` maps a heading to (label, value) rows."""

    sections: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what is missing; non-empty means exit status 1

    def add(self, section: str, label: str, value: str) -> None:
        self.sections.setdefault(section, []).append((label, value))

    def value(self, section: str, label: str) -> str:
        for row_label, row_value in self.sections.get(section, []):
            if row_label == label:
                return row_value
        raise KeyError(f"no row {label!r} in section {section!r}")

    def format(self) -> str:
        width = max(len(label) for rows in self.sections.values() for label, _ in rows)
        lines = []
        for section, rows in self.sections.items():
            lines.append(f"{section}")
            lines.extend(f"  {label:<{width}}  {value}" for label, value in rows)
        return "\n".join(lines)


REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


def pinned_versions(path: Path = REQUIREMENTS) -> dict[str, str]:
    """The ``name==version`` pins of requirements.txt (comments and blank lines skipped)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins[name.split("[", 1)[0]] = version  # uvicorn[standard] is the distribution uvicorn
    return pins


def compare_with_pin(name: str, pinned: str) -> tuple[str, bool]:
    """(what to report, whether the package is installed) for one pin; a local tag (+cpu) still matches."""
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return f"MISSING (pinned {pinned}): pip install -r requirements.txt", False
    if installed.split("+", 1)[0] == pinned:
        return installed, True
    return f"{installed}, but requirements.txt pins {pinned}: pip install -r requirements.txt", True


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _version_of(module_name: str) -> str:
    if importlib.util.find_spec(module_name) is None:
        return "not installed"
    if module_name in ("torch", "tensorflow", "keras"):
        _progress(f"doctor: importing {module_name} ...")
    try:
        if module_name in ("tensorflow", "keras"):
            from companion.frameworks import import_tensorflow

            import_tensorflow()  # keras 3 imports TensorFlow as its backend
        module = __import__(module_name)
        return str(getattr(module, "__version__", "installed (no version)"))
    except Exception as exc:  # a broken install is worth reporting, not crashing on
        return f"fails to import: {type(exc).__name__}: {exc}"


def _torch_accelerators() -> str:
    if importlib.util.find_spec("torch") is None:
        return "PyTorch not installed"
    import torch

    seen = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            seen.append(f"cuda:{index} {torch.cuda.get_device_name(index)}")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        seen.append("mps (Apple GPU)")
    return ", ".join(seen) if seen else "none (CPU only)"


def _tf_accelerators() -> str:
    if importlib.util.find_spec("tensorflow") is None:
        return "TensorFlow not installed"
    from companion.frameworks import import_tensorflow

    gpus = import_tensorflow().config.list_physical_devices("GPU")
    return ", ".join(gpu.name for gpu in gpus) if gpus else "none (CPU only)"


def _chosen(getter) -> str:
    try:
        return str(getter())
    except Exception as exc:  # an invalid COMPANION_DEVICE is reported here
        return f"error: {exc}"


def diagnose() -> Report:
    """Probe the machine and return a :class:`Report`."""
    from companion.device import ENV_VAR, get_device, get_tf_device

    report = Report()
    versions = "Versions"
    report.add(versions, "Python", platform.python_version())
    report.add(versions, "platform", f"{platform.system()} {platform.machine()}")
    for label, module in (("NumPy", "numpy"), ("PyTorch", "torch"), ("TensorFlow", "tensorflow"), ("Keras", "keras")):
        report.add(versions, label, _version_of(module))

    pins = f"Pinned packages ({REQUIREMENTS.name})"
    if REQUIREMENTS.is_file():
        for name, pinned in pinned_versions().items():
            shown, installed = compare_with_pin(name, pinned)
            report.add(pins, name, shown)
            if not installed:
                report.problems.append(f"{name} is not installed")
    else:
        report.add(pins, "(no file)", f"{REQUIREMENTS} not found next to the package: versions not compared")

    cpu = "CPU"
    report.add(cpu, "logical cores", str(os.cpu_count()))
    if hasattr(os, "sched_getaffinity"):
        report.add(cpu, "cores usable here", str(len(os.sched_getaffinity(0))))
    if importlib.util.find_spec("torch") is not None:
        import torch

        report.add(cpu, "PyTorch threads", str(torch.get_num_threads()))

    accel = "Accelerators"
    report.add(accel, "PyTorch sees", _torch_accelerators())
    report.add(accel, "TensorFlow sees", _tf_accelerators())
    report.add(accel, ENV_VAR, os.environ.get(ENV_VAR, "(unset: automatic choice)"))
    if importlib.util.find_spec("torch") is not None:
        report.add(accel, "book device (PyTorch)", _chosen(get_device))
    if importlib.util.find_spec("tensorflow") is not None:
        report.add(accel, "book device (TensorFlow)", _chosen(get_tf_device))

    data = f"Offline data sources (cache: {cache_dir()})"
    for source, present in source_status():
        report.add(data, source.name, "installed" if present else f"missing; install with: {source.install}")
        if not present:
            report.problems.append(f"data source {source.name} is missing ({source.install})")
    return report


def main() -> int:
    """Print the report; exit status 1 when something the book needs is missing."""
    report = diagnose()
    print(report.format())
    if report.problems:
        print(f"doctor: {len(report.problems)} problem(s): " + "; ".join(report.problems))
    else:
        print("doctor: every pinned package and every data source the chapters read is installed")
    sys.stdout.flush()
    return 1 if report.problems else 0
