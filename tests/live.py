"""What the tests that run the app as it is served (gunicorn on an instance folder, driven over HTTP)
share: tests/browser, tests/test_served.py, tests/test_shared_limits.py."""

# Production's argon2 costs 0.16 s of CPU a hash: `flask demo` sets ten passwords and every sign-in
# checks one. The served instances hash cheaply (TestConfig's values; the code path is the same).
CHEAP_ARGON2 = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}
