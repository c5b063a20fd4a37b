"""gunicorn settings (found in the working directory by `make run` and the served tests).

Which X-Forwarded-* headers to believe is decided by the app alone, through TRUSTED_PROXIES (werkzeug's
ProxyFix, see inspect_app/__init__.py). gunicorn would otherwise believe X-Forwarded-Proto from
127.0.0.1 by default (forwarded_allow_ips), whatever TRUSTED_PROXIES says, so it trusts no peer here.
"""
forwarded_allow_ips = ""
secure_scheme_headers: dict = {}


def post_worker_init(worker):
    """What the worker holds once the app is loaded (modules, mappers, the routes: about 186,000
    objects) lives as long as the worker; frozen, the garbage collector's full passes stop walking it.
    Measured under bench.endpoints on PostgreSQL: a full pass took 166 ms of the request it landed in,
    35 ms frozen; the run's collections 7.0 → 3.3 s of CPU. (With --preload the objects come from the
    master and a frozen object's page is also no longer written by the passes: memory stays shared.)

    A young collection every 20,000 net allocations instead of every 700: a request's objects (a
    whole visit's rows, states and dicts; a list's 500 rows) live until it ends and are freed by their
    counts, so at 700 each request paid one or more collections that walked them, promoted them and
    walked them again a generation up, for nothing. Under bench.endpoints on PostgreSQL (one run each,
    every scenario): the collections' CPU 2.8-2.9 s → 1.3 s, the full passes 34 → 12, the workers' peak
    memory the same (128-187 MB against 129-185 MB). Cyclic garbage waits for at most that many
    objects (a few MB)."""
    import gc
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
