# seed.aws_migration — developer and CI entry points.   `make help` lists the targets.
#
# Everything runs from the repository root, which is also the collection root.
# ansible-test needs the collection at .../ansible_collections/seed/aws_migration and
# resolves symlinks, so `sanity` and `units` run in a copy of the tracked files under
# build/ (see the build-tree target); the playbooks use the .collections symlink.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory
export ANSIBLE_FORCE_COLOR ?= 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PYTHON        ?= python3
NAMESPACE     := seed
NAME          := aws_migration
# Debian bookworm packages. shellcheck: ansible-test sanity's "shellcheck" test
# silently does nothing without it.
APT_PACKAGES  := git make rsync curl ca-certificates python3-venv shellcheck \
                 docker.io docker-registry debootstrap postgresql prometheus graphviz
DEPS_STAMP    := .cache/deps.stamp
DEV_REQS      := requirements-dev.txt tests/unit/requirements.txt
LINK          := .collections/ansible_collections/$(NAMESPACE)/$(NAME)
BUILD_ROOT    := build/ansible_collections
BUILD_DIR     := $(BUILD_ROOT)/$(NAMESPACE)/$(NAME)
# Sanity/units on the controller's Python only: 3.11 is the one Python on these
# machines (others would be skipped with a warning anyway), and it keeps sanity fast.
TEST_PYTHON   ?= 3.11
# Extra arguments, e.g. make sanity SANITY_ARGS='--test pep8'
SANITY_ARGS   ?=
UNITS_ARGS    ?=
# 2 cores here: -n 2 == -n auto, without the CPU probe.
PYTEST_WORKERS ?= 2
INTEGRATION_ARGS ?=
# 1: `units` fails when tests/unit holds no test files (default: say so and pass).
UNITS_REQUIRE_TESTS ?= 1
TEST_STEPS    := units integration molecule sanity lint

.PHONY: help deps apt-deps py-deps ansible-test-bootstrap collection-link build-tree \
        local-up local-down demo test units integration molecule sanity lint bench clean

help: ## Show this help
	@echo "Usage: make TARGET [VAR=value]"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-24s %s\n", $$1, $$2}'
	@echo "Variables: PYTHON=$(PYTHON) TEST_PYTHON=$(TEST_PYTHON) PYTEST_WORKERS=$(PYTEST_WORKERS)"
	@echo "           SANITY_ARGS, UNITS_ARGS, INTEGRATION_ARGS (extra arguments), UNITS_REQUIRE_TESTS=$(UNITS_REQUIRE_TESTS)"

## ---------------------------------------------------------------- setup

deps: apt-deps py-deps ansible-test-bootstrap ## Install apt + pip dependencies (fast no-op when present)

apt-deps: ## apt-get install APT_PACKAGES that dpkg says are missing
	@missing=(); for p in $(APT_PACKAGES); do \
	  dpkg -s "$$p" >/dev/null 2>&1 || missing+=("$$p"); done; \
	if (( $${#missing[@]} == 0 )); then echo "apt: all $(words $(APT_PACKAGES)) packages present"; exit 0; fi; \
	echo "apt: installing $${missing[*]}"; \
	sudo=""; [[ $$(id -u) == 0 ]] || sudo=sudo; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get update -q; \
	$$sudo apt-get install -y -q --no-install-recommends "$${missing[@]}"

# True (exit 0) when every pin in the requirements files, and the requirements of
# the extras it asks for, are installed; anything odd (no `packaging` yet) -> pip runs.
define DEPS_CHECK_PY
import sys
from importlib import metadata
from packaging.requirements import Requirement
def ok(req):
    try:
        dist = metadata.distribution(req.name)
    except metadata.PackageNotFoundError:
        return False
    if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
        return False
    for sub in map(Requirement, dist.requires or []):
        if sub.marker and any(sub.marker.evaluate({"extra": e}) for e in req.extras) \
           and not sub.marker.evaluate({"extra": ""}):
            if not ok(sub):
                return False
    return True
reqs = []
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            reqs.append(Requirement(line))
reqs = [r for r in reqs if not r.marker or r.marker.evaluate()]
sys.exit(0 if all(ok(r) for r in reqs) else 1)
endef
export DEPS_CHECK_PY

py-deps: $(DEPS_STAMP) ## pip install -r requirements-dev.txt when a pin is not satisfied

# Re-check whenever a requirements file changes; pip only runs when a pinned
# distribution (or one of its requested extras' requirements) is missing.
$(DEPS_STAMP): $(DEV_REQS)
	@mkdir -p $(@D)
	@if $(PYTHON) -c "$$DEPS_CHECK_PY" $(DEV_REQS); then echo "pip: requirements already satisfied"; \
	else echo "pip: installing $(DEV_REQS)"; $(PYTHON) -m pip install -q -r requirements-dev.txt; fi
	@touch $@

ansible-test-bootstrap: ## Install the offline stand-in for ansible-test's get-pip download
	@bash tools/ansible_test_bootstrap.sh

collection-link: ## Link the checkout as .collections/ansible_collections/seed/aws_migration
	@mkdir -p $(dir $(LINK))
	@if [[ -e $(LINK) && ! -L $(LINK) ]]; then echo "$(LINK) exists and is not a symlink" >&2; exit 1; fi
	@ln -sfn ../../.. $(LINK)
	@echo "$(LINK) -> $$(readlink -f $(LINK))"

# Copy of the tracked + untracked-but-not-ignored files (what git would commit),
# so ansible-test sees exactly the collection content and no symlink loop.
# The copy gets an empty git repository of its own: ansible-test lists content
# with `git ls-files --cached --others --exclude-standard` in the nearest repository
# above it, which would otherwise be this checkout, where build/ is ignored.
# amazon.aws (our dependency, shipped by the `ansible` package) is linked next to it:
# ansible-test only puts build/ on the collection path of its test environments.
# .gitignore already ignores these; stated again so a missing line cannot copy build/ into itself.
BUILD_PATHSPEC := . ':(exclude)build' ':(exclude).collections' ':(exclude).cache' ':(exclude).local'
build-tree: ## Sync the collection into build/ansible_collections/seed/aws_migration
	@mkdir -p $(BUILD_DIR) $(BUILD_ROOT)/amazon
	@git ls-files -co --exclude-standard -z -- $(BUILD_PATHSPEC) \
	  | while IFS= read -r -d '' f; do if [[ -e "$$f" || -L "$$f" ]]; then printf '%s\0' "$$f"; fi; done \
	  | LC_ALL=C sort -zu > $(BUILD_ROOT)/.files
	@rsync -a --from0 --files-from=$(BUILD_ROOT)/.files ./ $(BUILD_DIR)/
	@cd $(BUILD_DIR) && LC_ALL=C comm -z -13 ../../.files \
	  <(find . \( -path ./tests/output -o -path ./.git \) -prune -o ! -type d -printf '%P\0' | LC_ALL=C sort -z) | xargs -0 -r rm -f --
	@find $(BUILD_DIR) -mindepth 1 -type d -empty ! -path "$(BUILD_DIR)/.git*" -delete
	@[[ -d $(BUILD_DIR)/.git ]] || git init -q $(BUILD_DIR)
	@aws="$$($(PYTHON) -c "$$AMAZON_AWS_PATH_PY")"; ln -sfn "$$aws" $(BUILD_ROOT)/amazon/aws
	@echo "build tree: $(BUILD_DIR) ($$(tr -cd '\0' < $(BUILD_ROOT)/.files | wc -c) files; amazon.aws -> $$(readlink $(BUILD_ROOT)/amazon/aws))"

define AMAZON_AWS_PATH_PY
import importlib.util
spec = importlib.util.find_spec("ansible_collections.amazon.aws")
if spec is None:
    raise SystemExit("amazon.aws is not installed: run make deps")
print(list(spec.submodule_search_locations)[0])
endef
export AMAZON_AWS_PATH_PY

## ---------------------------------------------------------------- local environment

local-up: ## Start the local AWS, a Docker engine and a registry on loopback, and make the base image
	$(PYTHON) tools/local_env.py up
	@eval "$$($(PYTHON) tools/local_env.py env)" && bash tools/base_image.sh >/dev/null

local-down: ## Stop what local-up started (images and registry data are kept under .local/)
	$(PYTHON) tools/local_env.py down

demo: deps collection-link local-up ## Run site.yml against the local default and print what was built
	@eval "$$($(PYTHON) tools/local_env.py env)" && \
	  ansible-playbook -i inventories/local playbooks/site.yml && \
	  ansible-playbook -i inventories/local playbooks/summary.yml

## ---------------------------------------------------------------- tests

test: ## units, integration, molecule, sanity, lint (all run; fails if any failed)
	@failed=(); summary=(); \
	for step in $(TEST_STEPS); do \
	  echo "==================== make $$step"; start=$$SECONDS; \
	  if $(MAKE) $$step; then res=ok; else res=FAILED; failed+=("$$step"); fi; \
	  summary+=("$$(printf '%-12s %-7s %4ss' "$$step" "$$res" "$$((SECONDS - start))")"); \
	done; \
	echo "==================== summary"; printf '  %s\n' "$${summary[@]}"; \
	if (( $${#failed[@]} )); then echo "make test: FAILED: $${failed[*]}"; exit 1; fi; \
	echo "make test: all $(words $(TEST_STEPS)) steps passed"

units: build-tree ansible-test-bootstrap ## ansible-test units (tests/unit) in the build tree
	@n=$$(find tests/unit -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | wc -l); \
	if (( n == 0 )); then \
	  echo "units: NO TESTS - tests/unit has no test_*.py files; ansible-test units not run, 0 tests ran"; \
	  exit $$(( $(UNITS_REQUIRE_TESTS) ? 1 : 0 )); fi; \
	echo "units: $$n test files"; \
	cd $(BUILD_DIR) && ansible-test units --python $(TEST_PYTHON) $(UNITS_ARGS)

integration: collection-link ## pytest tests/integration with xdist; no tests collected = failure
	@rc=0; $(PYTHON) -m pytest tests/integration -q -n $(PYTEST_WORKERS) --dist loadgroup $(INTEGRATION_ARGS) || rc=$$?; \
	if (( rc == 5 )); then echo "integration: FAILED - pytest collected no tests (exit 5)"; fi; \
	exit $$rc

molecule: collection-link ## molecule test --all (extensions/molecule scenarios)
	@if ! compgen -G 'extensions/molecule/*/molecule.yml' >/dev/null; then \
	  echo "molecule: FAILED - extensions/molecule has no */molecule.yml; 0 scenarios ran"; exit 1; fi; \
	molecule test --all

sanity: build-tree ansible-test-bootstrap ## ansible-test sanity --python 3.11 in the build tree (empty ignore file)
	@if [[ -s tests/sanity/ignore-2.19.txt ]]; then echo "tests/sanity/ignore-2.19.txt must stay empty" >&2; exit 1; fi
	cd $(BUILD_DIR) && ansible-test sanity --python $(TEST_PYTHON) $(SANITY_ARGS)

lint: collection-link ## ansible-lint (profile production, see .ansible-lint; playbooks resolve seed.aws_migration via .collections)
	ansible-lint

bench: ## Run the benchmarks (benchmarks/run.py)
	$(PYTHON) benchmarks/run.py

clean: ## Remove build/, .collections/ and .cache/ (not .local: use local-down)
	rm -rf build .collections .cache
