# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the collection's modules inside Ansible's task worker when the task runs on the controller.

Why: a module run normally costs ~0.75 s before its first API call (measured in benchmarks/README.md):
AnsiballZ build (~0.2 s), temporary directory commands, a new interpreter that imports
``ansible.module_utils.basic`` from a zip (~0.13 s), boto3 (~0.08 s), the module_utils, and tears all of it
down again. Our modules only talk HTTP to AWS, and with ``connection: local`` they run on the controller
anyway, with the controller's Python. So when a task targets the controller exactly as a module process
would (local connection, no become, no async, ``ansible_python_interpreter`` is the controller's own
Python; a task ``environment`` is applied to the worker's environment for the run), the action plugin
imports the module in the worker process Ansible has already forked for the task (forked from a process
that imported the heavy libraries once, when the strategy loaded this plugin) and calls its ``main()`` with the same module arguments, the same JSON
encoding and decoding and the same result processing as a module process. Anything else, or
``SEED_AWS_MIGRATION_IN_PROCESS=0``, takes Ansible's normal path, unchanged.

The module code is the same either way: it reads its arguments from ``basic._ANSIBLE_ARGS`` as AnsiballZ
sets them, prints its JSON result and exits. Warnings and deprecations are collected module-side (as in a
module process) and returned with the result.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import shutil
import sys
import tempfile
import traceback

from ansible import constants as C
from ansible.module_utils import basic
from ansible.module_utils import _internal
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.json import Direction
from ansible.module_utils.common.json import get_module_encoder
from ansible.plugins.action.normal import ActionModule as NormalActionModule
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

display = Display()

COLLECTION = "seed.aws_migration"
ENV_SWITCH = "SEED_AWS_MIGRATION_IN_PROCESS"
# Our modules declare no METADATA, so Ansible encodes their arguments and decodes their results with the
# "legacy" serialization profile; the in-process path uses the same one.
PROFILE = "legacy"


def _preload():
    """Import what every module run needs, once, in the process that forks the task workers.

    The strategy loads an action plugin's class in the main ``ansible-playbook`` process before it queues
    the task, so these imports happen there once and every forked worker inherits them.
    """
    for name in (
        "botocore.session",
        "boto3",
        "ansible_collections.amazon.aws.plugins.module_utils.modules",
        "ansible_collections.seed.aws_migration.plugins.module_utils.modules",
    ):
        try:
            importlib.import_module(name)
        except Exception:  # pylint: disable=broad-exception-caught
            # missing libraries are reported by the module itself, with its own message
            return


_preload()


def _switched_off():
    return os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off")


class InProcessModuleAction(NormalActionModule):
    """``ansible.builtin.normal``, but a collection module on the controller runs in the task's worker."""

    def _execute_module(self, module_name=None, module_args=None, tmp=None, task_vars=None, persist_files=False,
                        delete_remote_tmp=None, wrap_async=False, ignore_unknown_opts=False):
        name = module_name if module_name is not None else self._task.action
        python_name, refusal = self._in_process_target(name, task_vars or {}, wrap_async)
        if refusal:
            display.vvv("%s: %s runs as a module process: %s" % (COLLECTION, name, refusal))
            return super()._execute_module(
                module_name=module_name, module_args=module_args, tmp=tmp, task_vars=task_vars,
                persist_files=persist_files, delete_remote_tmp=delete_remote_tmp, wrap_async=wrap_async,
                ignore_unknown_opts=ignore_unknown_opts)
        display.vvv("%s: %s runs in the task worker (in-process, %s)" % (COLLECTION, name, sys.executable))
        return self._execute_in_process(name, python_name, module_args, task_vars or {}, ignore_unknown_opts)

    # ------------------------------------------------------------------ eligibility

    def _in_process_target(self, name, task_vars, wrap_async):
        """(python module name, None) when ``name`` may run in-process, else (None, reason)."""
        if _switched_off():
            return None, "%s=%s" % (ENV_SWITCH, os.environ.get(ENV_SWITCH))
        if wrap_async or self._task.async_val:
            return None, "async task"
        if getattr(self._connection, "transport", None) != "local":
            return None, "connection is not local"
        if self._play_context.become:
            return None, "become is set"
        if C.DEFAULT_KEEP_REMOTE_FILES:
            return None, "ANSIBLE_KEEP_REMOTE_FILES is set"
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is None:
            return None, "ansible_python_interpreter is not set (interpreter discovery may pick another Python)"
        try:
            interpreter = self._templar.template(interpreter)
        except Exception as e:  # pylint: disable=broad-exception-caught
            return None, "ansible_python_interpreter cannot be templated here (%s)" % e
        if not isinstance(interpreter, str) or \
                os.path.abspath(interpreter.strip()) != os.path.abspath(sys.executable):
            return None, "ansible_python_interpreter %r is not the controller's Python %s" % (interpreter, sys.executable)
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            name, collection_list=self._task.collections)
        fqcn = context.resolved_fqcn if context.resolved else None
        if not fqcn or not fqcn.startswith(COLLECTION + "."):
            return None, "%s is not a module of %s" % (fqcn or name, COLLECTION)
        short = fqcn[len(COLLECTION) + 1:]
        return "ansible_collections.%s.plugins.modules.%s" % (COLLECTION, short), None

    # ------------------------------------------------------------------ execution

    def _execute_in_process(self, name, python_name, module_args, task_vars, ignore_unknown_opts):
        if module_args is None:
            module_args = self._task.args
        self._update_module_args(name, module_args, task_vars, ignore_unknown_opts=ignore_unknown_opts)
        self._used_interpreter = "#!" + sys.executable
        # the task's `environment` (play, block, task): what the shell prefix would give a module process
        environment = {}
        self._compute_environment_string(raw_environment_out=environment)
        tmpdir = tempfile.mkdtemp(prefix="ansible-seed-")
        module_args["_ansible_tmpdir"] = tmpdir
        saved_environ = dict(os.environ)
        try:
            os.environ.update({str(k): str(v) for k, v in environment.items()})
            payload = json.dumps({"ANSIBLE_MODULE_ARGS": module_args},
                                 cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE))
            rc, stdout, stderr = _run_main(python_name, payload.encode("utf-8"))
        finally:
            os.environ.clear()
            os.environ.update(saved_environ)
            shutil.rmtree(tmpdir, ignore_errors=True)
        data = self._parse_returned_data({"rc": rc, "stdout": stdout, "stderr": stderr}, PROFILE)
        # the same post-processing as ActionBase._execute_module
        data.pop("_ansible_suppress_tmpdir_delete", None)
        if "results" in data and (not isinstance(data["results"], (list, tuple))):
            data["ansible_module_results"] = data.pop("results")
            display.warning("Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
        remove_internal_keys(data)
        for key in ("stdout", "stderr"):
            if key in data and key + "_lines" not in data:
                data[key + "_lines"] = (data.get(key) or "").splitlines()
        return data


def _run_main(python_name, payload):
    """Run ``python_name``'s ``main()`` as AnsiballZ would: returns (rc, stdout, stderr)."""
    saved = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, _internal.is_controller)
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = payload, PROFILE
    # module side for the duration of the run: warnings and deprecations are collected into the result
    # (not displayed directly) and JSON profiles resolve to their module-side implementations
    _internal.is_controller = False
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    out, err = io.StringIO(), io.StringIO()
    rc = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                module = importlib.import_module(python_name)
                module.main()
                raise RuntimeError("Module %s did not exit (it must print its result and exit)." % python_name)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except Exception as e:  # pylint: disable=broad-exception-caught
                # what AnsiballZ does with an exception escaping the module: a failed result with the traceback
                out.write("\n" + json.dumps({"failed": True, "msg": "%s: %s" % (type(e).__name__, e),
                                             "exception": traceback.format_exc()}))
                rc = 1
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, _internal.is_controller = saved
    return rc, out.getvalue(), err.getvalue()
