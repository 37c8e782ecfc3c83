# hardened.nomad: the README's two commands are `make demo` and `make test`.
# Every setup target is idempotent and cached; a second run's setup is quick.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:

VENV        := $(CURDIR)/.venv
CACHE       := $(CURDIR)/.cache
COLLECTIONS := $(CACHE)/collections
TESTBED     := $(CURDIR)/tests/testbed
SCENARIOS   := default check_mode release_verification cluster

# The ansible-core minors that sanity and the unit tests run on (one only: make sanity units CORES=2.19).
# The newest is .venv's (requirements-dev.txt); each older one has a venv of its own, cached like
# .venv, with only what those tests need (tests/requirements/core-<minor>.txt).
CORES       := 2.17 2.18 2.19
NEWEST_CORE := 2.19
core_venv    = $(if $(filter $(NEWEST_CORE),$(1)),$(VENV),$(CACHE)/venvs/core-$(1))
CORE_VENVS  := $(foreach core,$(CORES),$(core)=$(call core_venv,$(core)))

export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0
export MOLECULE_NO_LOG := false

.PHONY: help setup venv venvs collection host-packages docker image nomad mirror \
        test lint sanity units packaging integration molecule $(addprefix molecule-,$(SCENARIOS)) demo demo-clean bench clean

help:
	@echo "make demo   - build the test bed and bring up Nomad with the collection"
	@echo "make test   - lint, sanity, unit, integration and every molecule scenario"
	@echo "make sanity units CORES=2.19 - sanity and unit tests on one ansible-core only (default: $(CORES))"
	@echo "make setup  - only the (cached) test bed: venv, docker, image, Nomad build, mirror"
	@echo "make bench  - converge timings of site.yml (cold, warm, check, 4/6/9 nodes) into docs/benchmarks.md"
	@echo "make bench AN_DIR=<checkout of ansible-community/ansible-nomad> - ours and AN side by side"

## ---- setup (idempotent, cached) ----
setup: venv collection image mirror

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	bash $(TESTBED)/host-packages.sh
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# .venv and each older core's venv.
venvs: venv $(foreach core,$(CORES),$(call core_venv,$(core))/.installed)
$(CACHE)/venvs/core-%/.installed: tests/requirements/core-%.txt | venv
	python3 -m venv $(@D)
	$(@D)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

# $(call each_core,WHAT,COMMAND): COMMAND once per core, that core's venv first on PATH; timed.
each_core = @set -e; for pair in $(CORE_VENVS); do \
	  core=$${pair%%=*}; start=$$SECONDS; \
	  echo "=== $(1) on ansible-core $$core"; \
	  PATH=$${pair\#*=}/bin:$$PATH $(2); \
	  echo "=== $(1) on ansible-core $$core: $$((SECONDS - start))s"; \
	done

# Ansible finds the collection as hardened.nomad through this link to the repo root.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/hardened
	@ln -sfn ../../../.. $(COLLECTIONS)/ansible_collections/hardened/nomad

host-packages:
	bash $(TESTBED)/host-packages.sh

docker: host-packages
	bash $(TESTBED)/docker-engine.sh

image: docker
	bash $(TESTBED)/base-image.sh

nomad:
	bash $(TESTBED)/build-nomad.sh
	bash $(TESTBED)/build-nomad.sh --previous

mirror: nomad docker
	bash $(TESTBED)/mirror.sh

## ---- tests ----
# Each stage timed; the table of their wall times is printed at the end, also on a failure.
TEST_STAGES := setup venvs lint sanity units packaging integration $(addprefix molecule-,$(SCENARIOS))
test:
	@bash $(TESTBED)/stages.sh $(TEST_STAGES)
	@echo "make test: all green"

lint: venv collection
	yamllint --strict .
	ansible-lint --profile production

sanity: venvs
	$(call each_core,sanity,bash $(TESTBED)/sanity.sh)

units: venvs collection
	$(call each_core,units,pytest tests/unit -q)

# The tarball (built from a copy salted with secrets) and the documented install ways.
packaging: venv
	pytest tests/packaging -q

integration: venv collection nomad
	$(TESTBED)/env.sh pytest tests/integration -q

molecule: $(addprefix molecule-,$(SCENARIOS))

$(addprefix molecule-,$(SCENARIOS)): molecule-%: setup
	$(TESTBED)/env.sh molecule test -s $*

## ---- benchmarks (not part of make test) ----
# Cold, warm, check and 4/6/9-node converges of site.yml; writes docs/benchmarks.md.
# With AN_DIR=<a checkout of ansible-community/ansible-nomad>: ours and AN side by
# side, cold, warm and check on 4 and 9 nodes (tests/bench/versus.py).
# MITOGEN=1 adds ours under the mitogen strategy to that comparison.
AN_DIR ?=
MITOGEN ?=
# FLEET=1: the rolling restart at 5 servers + 1 client, 3 + 1 and 3 + 12 (tests/bench/fleet.py).
FLEET ?=
bench: setup $(if $(AN_DIR),$(VENV)/.bench-versus) $(if $(MITOGEN),$(CACHE)/mitogen/.installed)
	$(TESTBED)/env.sh $(VENV)/bin/python tests/bench/$(if $(FLEET),fleet.py,$(if $(AN_DIR),versus.py --an $(AN_DIR) $(if $(MITOGEN),--mitogen $(CACHE)/mitogen),bench.py))

$(CACHE)/mitogen/.installed: tests/requirements/bench-mitogen.txt | venv
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --target $(@D) -r $<
	touch $@

$(VENV)/.bench-versus: tests/requirements/bench-versus.txt | venv
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

## ---- demo ----
# The cluster scenario's 3 servers + 1 client, converged with playbooks/site.yml
# (reused when it is up), then shown as the operator sees it, over mTLS.
demo: setup
	$(TESTBED)/env.sh molecule create -s cluster
	$(TESTBED)/env.sh molecule prepare -s cluster
	$(TESTBED)/env.sh molecule converge -s cluster
	@$(TESTBED)/env.sh bash $(TESTBED)/demo-show.sh

demo-clean: venv collection
	$(TESTBED)/env.sh molecule destroy -s cluster

clean: demo-clean
	rm -rf $(CACHE)/ansible-test tests/output
