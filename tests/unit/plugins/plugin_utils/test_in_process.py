# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils.in_process._run_main: a module's main() run as AnsiballZ would, inside this process.

The modules here are small AnsibleModule programs registered in sys.modules; the integration test
tests/integration/test_in_process.py runs the collection's real modules both ways through ansible-playbook.
"""

from __future__ import annotations

import json
import sys
import types

import pytest

from ansible.module_utils import basic
from ansible.module_utils import _internal
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.seed.aws_migration.plugins.plugin_utils import in_process


def _register(name, main):
    module = types.ModuleType(name)
    module.main = main
    sys.modules[name] = module
    return name


def _payload(**args):
    return json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()


def _result(stdout):
    return json.loads(stdout[stdout.index("{"):])


@pytest.fixture
def controller_context():
    """The flag and globals _run_main swaps, as the controller has them; checked restored afterwards."""
    saved = (_internal.is_controller, basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE)
    _internal.is_controller = True
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = None, None
    yield
    assert (_internal.is_controller, basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE) == (True, None, None)
    _internal.is_controller, basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = saved


def test_exit_json_result_with_warning_and_check_mode(controller_context):
    seen = {}

    def main():
        seen["is_controller"] = _internal.is_controller
        module = AnsibleModule(argument_spec={"name": {"type": "str", "required": True}}, supports_check_mode=True)
        module.warn("careful")
        module.exit_json(changed=not module.check_mode, name=module.params["name"])

    name = _register("seed_test_in_process_ok", main)
    rc, stdout, stderr = in_process._run_main(name, _payload(name="web", _ansible_check_mode=True))
    assert rc == 0 and stderr == ""
    result = _result(stdout)
    assert result["changed"] is False and result["name"] == "web"
    # collected module-side and returned with the result, as from a module process
    assert [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]] == ["careful"]
    assert seen["is_controller"] is False


def test_fail_json_and_no_log_value_censored(controller_context):
    def main():
        module = AnsibleModule(argument_spec={"token": {"type": "str", "no_log": True}})
        module.fail_json(msg="token %s refused" % module.params["token"])

    name = _register("seed_test_in_process_fail", main)
    rc, stdout, _stderr = in_process._run_main(name, _payload(token="s3cr3t-value"))
    assert rc == 1
    assert "s3cr3t-value" not in stdout
    result = _result(stdout)
    assert result["failed"] is True and "refused" in result["msg"]


def test_bad_argument_fails_like_a_module_process(controller_context):
    def main():
        module = AnsibleModule(argument_spec={"port": {"type": "int"}})
        module.exit_json(changed=False)

    name = _register("seed_test_in_process_badarg", main)
    rc, stdout, _stderr = in_process._run_main(name, _payload(port="eighty"))
    assert rc == 1
    assert "port" in _result(stdout)["msg"]


def test_exception_escaping_main_is_a_failed_result(controller_context):
    def main():
        raise KeyError("boom")

    name = _register("seed_test_in_process_raise", main)
    rc, stdout, _stderr = in_process._run_main(name, _payload())
    result = _result(stdout)
    assert rc == 1 and result["failed"] is True
    assert "KeyError" in result["msg"] and "Traceback" in result["exception"]


def test_module_that_does_not_exit_is_a_failure(controller_context):
    name = _register("seed_test_in_process_noexit", lambda: None)
    rc, stdout, _stderr = in_process._run_main(name, _payload())
    assert rc == 1 and "did not exit" in _result(stdout)["msg"]


def test_missing_module_is_a_failed_result(controller_context):
    rc, stdout, _stderr = in_process._run_main("seed_test_in_process_missing_module", _payload())
    assert rc == 1 and "ModuleNotFoundError" in _result(stdout)["msg"]


def test_stderr_is_captured_not_printed(controller_context, capsys):
    def main():
        sys.stderr.write("library noise\n")
        AnsibleModule(argument_spec={}).exit_json(changed=False)

    name = _register("seed_test_in_process_stderr", main)
    rc, _stdout, stderr = in_process._run_main(name, _payload())
    assert rc == 0 and stderr == "library noise\n"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value,off", [("0", True), ("false", True), ("OFF", True), ("1", False), ("", False)])
def test_switch(monkeypatch, value, off):
    monkeypatch.setenv(in_process.ENV_SWITCH, value)
    assert in_process._switched_off() is off


def test_every_module_has_its_in_process_action_plugin():
    """A module without plugins/action/<name>.py would silently run as a module process."""
    import importlib
    import pathlib

    root = pathlib.Path(in_process.__file__).resolve().parents[1]
    modules = sorted(p.stem for p in (root / "modules").glob("*.py") if not p.stem.startswith("_"))
    actions = sorted(p.stem for p in (root / "action").glob("*.py") if not p.stem.startswith("_"))
    assert modules and actions == modules
    for name in actions:
        action = importlib.import_module("ansible_collections.seed.aws_migration.plugins.action." + name)
        assert issubclass(action.ActionModule, in_process.InProcessModuleAction), name
