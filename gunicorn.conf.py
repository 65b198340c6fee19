"""gunicorn settings for openregister-flask; each can be overridden by the environment.

    gunicorn -c gunicorn.conf.py wsgi:app
"""

import multiprocessing
import os

bind = os.environ.get("OPENREGISTER_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("OPENREGISTER_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("OPENREGISTER_THREADS", 4))
# Long enough for a slow LLM answer (OPENREGISTER_LLM_TIMEOUT defaults to 60 s) plus our own work.
timeout = int(os.environ.get("OPENREGISTER_WORKER_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("OPENREGISTER_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"
# The request line and query are logged with credential-like parameters (?access_token=...) redacted.
logger_class = "openregister.http.RedactingAccessLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("OPENREGISTER_FORWARDED_ALLOW_IPS", "127.0.0.1")
