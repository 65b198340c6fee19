# The two commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
ADMIN_USER ?= admin
ADMIN_PASSWORD ?= admin
ORGANISATION ?= Default
export OPENREGISTER_BIND ?= 127.0.0.1:8080

.PHONY: run test install install-test clean check-admin-password

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# admin/admin is for this machine only: on any other address, ask for a password of one's own.
check-admin-password:
	@case "$(OPENREGISTER_BIND)" in \
	  127.*|localhost|localhost:*|::1|\[::1\]|\[::1\]:*) ;; \
	  *) if [ '$(ADMIN_PASSWORD)' = admin ]; then \
	       echo "Refusing to serve on $(OPENREGISTER_BIND) with the default password admin/admin."; \
	       echo "Choose a password for the first user: make run ADMIN_PASSWORD='a long password' (or export ADMIN_PASSWORD=...)."; \
	       exit 1; \
	     fi ;; \
	esac

# Set up the SQLite database, make sure the first user exists, and serve on $(OPENREGISTER_BIND).
# gunicorn replaces the recipe's shell, so it is make's own child.
run: check-admin-password install
	$(FLASK) db upgrade
	@$(FLASK) user create $(ADMIN_USER) --password '$(ADMIN_PASSWORD)' --organisation '$(ORGANISATION)' 2>/dev/null \
		&& echo "Created user $(ADMIN_USER) with password $(ADMIN_PASSWORD) in organisation $(ORGANISATION)." \
		|| echo "User $(ADMIN_USER) exists already; its password is unchanged."
	@echo "Serving on http://$(OPENREGISTER_BIND)/index.php/apps/openregister/api (try: curl -u $(ADMIN_USER):$(ADMIN_PASSWORD) http://$(OPENREGISTER_BIND)/index.php/apps/openregister/api/conversations)"
	exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install-test
	$(BIN)/pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
