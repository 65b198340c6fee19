"""gunicorn settings for openregister-flask; each can be overridden by the environment.

    gunicorn -c gunicorn.conf.py wsgi:app

Worker model: threads (gthread), many of them. A chat request spends seconds waiting on the LLM
provider and does nothing else meanwhile: no CPU, and no database connection (the question and the
answer are two short transactions around the wait, see openregister.database). A waiting request
therefore costs one thread. With few threads, waiting chats fill them and every other request queues
behind them (measured with 4 threads a worker: list and show went from tens of milliseconds to
18 seconds at p99 while 64 chats waited); 32 threads a worker keep threads free for them (README,
"Performance"). Processes (workers) are for the CPU, so their number follows the cores.

Why not gevent: it would need the whole stack made cooperative (psycopg's wait functions under
gevent, and SQLite, whose calls, busy-timeout waits included, block the whole worker), for a
gain that threads give here without any of it.
"""

import multiprocessing
import os

bind = os.environ.get("OPENREGISTER_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("OPENREGISTER_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 8)))
worker_class = "gthread"
threads = int(os.environ.get("OPENREGISTER_THREADS", 32))
# Each worker's connection pool admits as many connections as the worker has threads, so no request
# waits for one; it keeps only OPENREGISTER_DATABASE_POOL_SIZE (5) open, since a thread waiting on the
# provider holds none. Workers inherit this from gunicorn's master process.
os.environ.setdefault("OPENREGISTER_DATABASE_MAX_CONNECTIONS", str(threads))
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
