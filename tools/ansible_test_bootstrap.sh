#!/usr/bin/env bash
# Make `ansible-test` work offline.
#
# Every virtual environment ansible-test creates (one per sanity test, plus the
# one for `--venv`) starts without pip.  ansible-test then "bootstraps" pip by
# running a get-pip script that it downloads once from ci-files.testing.ansible.com
# and caches; see ansible_test/_util/target/setup/requirements.py, bootstrap():
#
#     url        = https://ci-files.testing.ansible.com/ansible-test/get-pip-<V>.py
#     cache_path = ~/.ansible/test/cache/get_pip_<V with . -> _>.py
#
# where <V> is the pip version from ansible_test/_internal/python_requirements.py,
# get_venv_packages() (24.2 for ansible-core 2.19).  If cache_path exists it is
# used as is, and nothing is downloaded.  We cannot reach that host, so this
# script writes a small stand-in at cache_path.
#
# How ansible-test runs it (quiet_pip.py): with GET_PIP=<cache_path> it imports the
# file as __main__ inside the target interpreter, with
#     sys.argv[1:] = ['--disable-pip-version-check', 'pip==24.2', '--no-setuptools', '--no-wheel']
# The real get-pip.py turns that into
#     pip install --upgrade --force-reinstall <args minus --no-setuptools/--no-wheel> pip [setuptools] [wheel]
# using a pip embedded in the script.  The stand-in does the same, but takes pip
# from the interpreter itself (`python -m ensurepip` when pip is missing), and
# installs with the machine's own pip configuration (/etc/pip.conf, PIP_* env),
# i.e. from the package index that is reachable here.
#
# Idempotent: the file is only rewritten when its content differs.
# Usage: tools/ansible_test_bootstrap.sh [--print-path]
set -euo pipefail

PYTHON="${PYTHON:-python3}"

# Which pip versions does this ansible-test bootstrap?  Ask ansible-test itself;
# fall back to parsing the source if its internals move.
pip_versions="$("$PYTHON" - <<'EOF' 2>/dev/null || true
import types
from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS
from ansible_test._internal.python_requirements import get_venv_packages
print(' '.join(sorted({get_venv_packages(types.SimpleNamespace(version=v))['pip'] for v in SUPPORTED_PYTHON_VERSIONS})))
EOF
)"
if [[ -z "$pip_versions" ]]; then
    src="$("$PYTHON" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py"
    pip_versions="$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" "$src" | sort -u | tr '\n' ' ')"
fi
if [[ -z "${pip_versions// /}" ]]; then
    echo "ansible_test_bootstrap: cannot find the pip version ansible-test bootstraps" >&2
    exit 1
fi

cache_dir="${HOME}/.ansible/test/cache"
mkdir -p "$cache_dir"

standin="$(mktemp)"
trap 'rm -f "$standin"' EXIT
cat >"$standin" <<'EOF'
"""Offline stand-in for ansible-test's get-pip bootstrap script.

Written by tools/ansible_test_bootstrap.sh (seed.aws_migration); see there.
Behaves like get-pip.py: installs pip (plus setuptools/wheel unless
--no-setuptools/--no-wheel) with `pip install --upgrade --force-reinstall`,
forwarding every other argument to pip.  pip itself comes from ensurepip and
packages from the index in this machine's pip configuration.
"""
import argparse
import importlib.util
import os
import subprocess
import sys


def have(module):
    return importlib.util.find_spec(module) is not None


def main():
    pre_parser = argparse.ArgumentParser(add_help=False)
    pre_parser.add_argument('--no-setuptools', action='store_true')
    pre_parser.add_argument('--no-wheel', action='store_true')
    pre, args = pre_parser.parse_known_args(sys.argv[1:])

    # Same rules as get-pip.py: only add setuptools/wheel when absent and not refused.
    want_setuptools = not pre.no_setuptools and not os.environ.get('PIP_NO_SETUPTOOLS') and not have('setuptools')
    want_wheel = not pre.no_wheel and not os.environ.get('PIP_NO_WHEEL') and not have('wheel')

    had_setuptools = have('setuptools')
    if not have('pip'):
        # The venv was made without pip: take the copy bundled with this Python.
        run([sys.executable, '-m', 'ensurepip', '--default-pip'])

    args.append('pip')
    if want_setuptools:
        args.append('setuptools')
    if want_wheel:
        args.append('wheel')

    run([sys.executable, '-m', 'pip', 'install', '--upgrade', '--force-reinstall'] + args)

    # ensurepip on Python < 3.12 also installs setuptools; the real bootstrap would not have.
    if pre.no_setuptools and not had_setuptools:
        importlib.invalidate_caches()
        if have('setuptools'):
            run([sys.executable, '-m', 'pip', 'uninstall', '--yes', 'setuptools'])
    print('pip bootstrap (offline stand-in, %s): pip install %s' % (__file__, ' '.join(args)))


def run(cmd):
    """Run quietly; show everything pip said only when it fails."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        sys.stdout.write(proc.stdout)
        sys.stdout.write('FAILED (%d): %s\n' % (proc.returncode, ' '.join(cmd)))
        sys.exit(proc.returncode)


if __name__ == '__main__':
    main()
EOF

for v in $pip_versions; do
    target="${cache_dir}/get_pip_${v//./_}.py"
    if [[ "${1:-}" == "--print-path" ]]; then
        echo "$target"
        continue
    fi
    if cmp -s "$standin" "$target"; then
        echo "ansible-test pip bootstrap stand-in up to date: $target"
    else
        install -m 0644 "$standin" "$target"
        echo "ansible-test pip bootstrap stand-in installed: $target"
    fi
done
