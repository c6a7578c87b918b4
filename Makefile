# Everything `make demo` and `make test` need is built here, inside the clone, and reused the
# next time (stamp files). Only the package registries are used, and only at install time.

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
TOOLS       := .tools
TASKCAT_VERSION := 0.9.58
TOOLCACHE   := $(TOOLS)/toolcache
PIP_QUIET   := --quiet --disable-pip-version-check
export PIP_NO_INPUT := 1
# pip's downloads are cached inside the clone, so every virtualenv after the first is quick.
export PIP_CACHE_DIR := $(CURDIR)/$(TOOLS)/pip-cache

.PHONY: all demo test lint tools toolcache bench moto-suite clean distclean

all: test

$(VENV)/.stamp: pyproject.toml
	@echo "==> creating $(VENV) (motobox and its test tools)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install $(PIP_QUIET) --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -m pip install $(PIP_QUIET) -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -c 'import motobox, moto, pytest' || { echo "error: $(VENV) is incomplete; see the pip output above" >&2; exit 1; }
	@touch $@

# The black boxes. Each lives in its own virtualenv: taskcat pins jsonschema<4 and urllib3<2,
# which moto cannot share. taskcat is installed the way the Action installs it, into a runner
# tool cache ($(TOOLCACHE)/taskcat/VERSION), with motobox beside it for `mock: true`; the
# Action tests reuse that cache with the internet denied. $(TOOLS)/taskcat points into it.
# Run every time: the install checks its own stamps (taskcat's version, motobox's declared
# dependencies) and returns at once when they match.
toolcache: $(VENV)/.stamp
	@$(PY) -m taskcat_action install --tool-cache $(TOOLCACHE) --taskcat-version $(TASKCAT_VERSION) --with-motobox .
	@ln -sfn toolcache/taskcat/$(TASKCAT_VERSION) $(TOOLS)/taskcat
	@$(TOOLS)/taskcat/bin/taskcat --version >/dev/null 2>&1 || { echo "error: taskcat did not install; see the pip output above" >&2; exit 1; }
	@touch $(TOOLCACHE)/.stamp

# Wheels for the update_taskcat / update_cfn_lint tests, which install with the index off.
$(TOOLS)/wheelhouse/.stamp:
	@echo "==> downloading taskcat and cfn-lint wheels into $(TOOLS)/wheelhouse"
	@$(PY) -m pip download $(PIP_QUIET) -d $(TOOLS)/wheelhouse 'taskcat==$(TASKCAT_VERSION)' cfn-lint pip setuptools wheel 2>&1 | grep -v "^WARNING: Location" || true
	@ls $(TOOLS)/wheelhouse/taskcat-$(TASKCAT_VERSION)-*.whl >/dev/null || { echo "error: the wheelhouse lacks taskcat; see the pip output above" >&2; exit 1; }
	@touch $@

# Built on ANY_USER_PYTHON, so that the sealed tests run as another uid can run it too (the
# stamp's name changed with that: an AWS CLI built on $(PYTHON) before is rebuilt).
$(TOOLS)/awscli/.stamp-any-user:
	@echo "==> installing the AWS CLI v1 into $(TOOLS)/awscli"
	@rm -rf $(TOOLS)/awscli && $(ANY_USER_PYTHON) -m venv $(TOOLS)/awscli
	@$(TOOLS)/awscli/bin/pip install $(PIP_QUIET) 'awscli>=1.33,<2' 2>&1 | grep -v '^WARNING: Location' || true
	@$(TOOLS)/awscli/bin/aws --version >/dev/null || { echo "error: the AWS CLI did not install" >&2; exit 1; }
	@chmod -R a+rX $(TOOLS)/awscli
	@touch $@

# What the tests that run motobox as another uid (sealing without root) need: a Python any user
# can run (the machine's own may live in a home other users cannot enter) with motobox's
# dependencies and pytest, but not motobox: those tests put the checkout's src first on
# PYTHONPATH, so they always run the code under test.
ANY_USER_PYTHON ?= /usr/bin/python3
$(TOOLS)/any-user/.stamp: pyproject.toml
	@echo "==> creating $(TOOLS)/any-user (motobox's dependencies on $(ANY_USER_PYTHON), for tests run as another uid)"
	@rm -rf $(TOOLS)/any-user && $(ANY_USER_PYTHON) -m venv $(TOOLS)/any-user
	@$(TOOLS)/any-user/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > $(TOOLS)/any-user/requirements.txt
	@$(TOOLS)/any-user/bin/pip install $(PIP_QUIET) -r $(TOOLS)/any-user/requirements.txt pytest 2>&1 | grep -v '^WARNING: Location' || true
	@$(TOOLS)/any-user/bin/python -c 'import moto, boto3, yaml, pytest' || { echo "error: $(TOOLS)/any-user is incomplete; see the pip output above" >&2; exit 1; }
	@chmod -R a+rX $(TOOLS)/any-user
	@touch $@

# boto3 1.26 / botocore 1.29 predate AWS_ENDPOINT_URL: redirection goes through AWS_DATA_PATH.
$(TOOLS)/boto-old/.stamp:
	@echo "==> installing boto3 1.26 / botocore 1.29 into $(TOOLS)/boto-old"
	@rm -rf $(TOOLS)/boto-old && $(PYTHON) -m venv $(TOOLS)/boto-old
	@$(TOOLS)/boto-old/bin/pip install $(PIP_QUIET) 'boto3==1.26.*' 'botocore==1.29.*' 2>&1 | grep -v '^WARNING: Location' || true
	@$(TOOLS)/boto-old/bin/python -c 'import boto3' || { echo "error: boto3 1.26 did not install" >&2; exit 1; }
	@touch $@

# moto's own tests: its sdist ships tests/. They run in a virtualenv of their own with what they
# import beyond moto[server] (pytest, freezegun) and pytest-timeout to bound a hung test, so the
# test venv stays as pyproject.toml declares it. The sdist is downloaded once and kept.
MOTO_VERSION := 5.2.5
MOTO_SUITE   := $(TOOLS)/moto-suite
$(MOTO_SUITE)/.stamp:
	@echo "==> moto $(MOTO_VERSION)'s own tests (sdist) and a virtualenv for them in $(MOTO_SUITE)"
	@test -f $(MOTO_SUITE)/sdist/moto-$(MOTO_VERSION).tar.gz || $(PYTHON) -m pip download $(PIP_QUIET) --no-binary :all: --no-deps -d $(MOTO_SUITE)/sdist 'moto==$(MOTO_VERSION)' 2>&1 | grep -v '^WARNING: Location' || true
	@test -f $(MOTO_SUITE)/sdist/moto-$(MOTO_VERSION).tar.gz || { echo "error: the moto $(MOTO_VERSION) sdist did not download" >&2; exit 1; }
	@rm -rf $(MOTO_SUITE)/moto-$(MOTO_VERSION) $(MOTO_SUITE)/venv
	@tar -xzf $(MOTO_SUITE)/sdist/moto-$(MOTO_VERSION).tar.gz -C $(MOTO_SUITE) moto-$(MOTO_VERSION)/tests moto-$(MOTO_VERSION)/pyproject.toml
	@$(PYTHON) -m venv $(MOTO_SUITE)/venv
	@$(MOTO_SUITE)/venv/bin/pip install $(PIP_QUIET) 'moto[server]==$(MOTO_VERSION)' 'pytest>=8' freezegun pytest-timeout 2>&1 | grep -v '^WARNING: Location' || true
	@$(MOTO_SUITE)/venv/bin/python -c 'import moto, pytest, freezegun, pytest_timeout' || { echo "error: $(MOTO_SUITE)/venv is incomplete; see the pip output above" >&2; exit 1; }
	@touch $@

tests/node/node_modules/.stamp: tests/node/package.json tests/node/package-lock.json
	@echo "==> npm ci in tests/node (AWS SDK for JavaScript v3)"
	@cd tests/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# AWS CDK v2 (the aws-cdk CLI, aws-cdk-lib, constructs) for tests/test_cdk_sam.py, with the
# Node SDK's S3 client that Lambda's Node.js runtime would give CDK's auto-delete custom
# resource (motobox gives functions the SDK it finds in the project: README, CDK and SAM).
tests/cdk/node_modules/.stamp: tests/cdk/package.json tests/cdk/package-lock.json
	@echo "==> npm ci in tests/cdk (AWS CDK v2)"
	@cd tests/cdk && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The SAM CLI in a virtualenv of its own: it pins its own boto3 (and much else).
SAM_CLI_VERSION := 1.170.0
$(TOOLS)/sam/.stamp:
	@echo "==> installing the SAM CLI $(SAM_CLI_VERSION) into $(TOOLS)/sam"
	@rm -rf $(TOOLS)/sam && $(PYTHON) -m venv $(TOOLS)/sam
	@$(TOOLS)/sam/bin/pip install $(PIP_QUIET) 'aws-sam-cli==$(SAM_CLI_VERSION)' 2>&1 | grep -v '^WARNING: Location' || true
	@$(TOOLS)/sam/bin/sam --version >/dev/null || { echo "error: the SAM CLI did not install; see the pip output above" >&2; exit 1; }
	@touch $@

tools: $(VENV)/.stamp toolcache $(TOOLS)/wheelhouse/.stamp $(TOOLS)/awscli/.stamp-any-user $(TOOLS)/any-user/.stamp $(TOOLS)/boto-old/.stamp tests/node/node_modules/.stamp \
       $(MOTO_SUITE)/.stamp tests/cdk/node_modules/.stamp $(TOOLS)/sam/.stamp

lint: $(VENV)/.stamp
	@echo "==> ruff"
	@$(VENV)/bin/ruff check src tests $(wildcard bench) $(wildcard tools)
	@$(VENV)/bin/ruff format --check src tests $(wildcard bench) $(wildcard tools)
	@echo "==> mypy"
	@$(VENV)/bin/mypy

test: tools lint
	@echo "==> pytest"
	@$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

demo: $(VENV)/.stamp toolcache
	@$(PY) tools/demo.py

# moto's server-mode tests of these services under plain moto_server and under `motobox serve`,
# compared id by id (tools/moto_suite.py); long: MOTO_SUITE_ARGS='--lanes 2' on an idle machine.
MOTO_SUITE_SERVICES ?= sts,iam,cloudformation,ssm,s3,sqs,dynamodb,core,ec2,apigateway,awslambda,sns,events,stepfunctions,kms,secretsmanager,elbv2,efs
moto-suite: $(VENV)/.stamp $(MOTO_SUITE)/.stamp
	@nice $(PY) tools/moto_suite.py run --services $(MOTO_SUITE_SERVICES) --out $(MOTO_SUITE)/results $(MOTO_SUITE_ARGS)

bench: $(VENV)/.stamp toolcache
	@$(PY) bench/bench.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(TOOLS) tests/node/node_modules tests/cdk/node_modules
