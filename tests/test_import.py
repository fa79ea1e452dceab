"""``import companion`` must stay light: no PyTorch, no TensorFlow."""

import subprocess
import sys

HEAVY = ("torch", "tensorflow", "keras", "jax", "matplotlib", "sklearn")


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in out.split()}


def test_import_companion_loads_no_framework():
    loaded = _modules_after("import companion")
    assert not loaded & set(HEAVY), f"import companion pulled in {sorted(loaded & set(HEAVY))}"


def test_import_of_numpy_building_blocks_loads_no_framework():
    loaded = _modules_after("import companion.nn, companion.data")
    assert not loaded & set(HEAVY)


def test_doctor_module_import_loads_no_framework():
    loaded = _modules_after("import companion.doctor")
    assert not loaded & set(HEAVY)
