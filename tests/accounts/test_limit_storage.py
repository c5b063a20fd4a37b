"""The pass says where the counts live, and they are there: the database by default, Redis on the pass
that runs the limits as a province's servers do (TEST_LIMITS=redis, `make test`'s third pass)."""
import os
from datetime import timedelta

from inspect_app import ratelimit


def test_the_counts_are_where_the_pass_says(app, db):
    store = ratelimit.storage()
    probe = ratelimit.limit("probe", 2, timedelta(minutes=1))
    probe.hit("someone")
    if os.environ.get("TEST_LIMITS") == "redis":
        import redis
        assert not isinstance(store, ratelimit.DatabaseStorage)
        keys = redis.Redis.from_url(app.config["REDIS_URL"]).keys(app.config["RATELIMIT_KEY_PREFIX"] + "*")
        assert keys, "the hit is not in Redis under this run's prefix"
    else:
        assert isinstance(store, ratelimit.DatabaseStorage)
    assert probe.count("someone") == 1
