"""gunicorn settings (found in the working directory by `make run` and the served tests).

Which X-Forwarded-* headers to believe is decided by the app alone, through TRUSTED_PROXIES (werkzeug's
ProxyFix, see inspect_app/__init__.py). gunicorn would otherwise believe X-Forwarded-Proto from
127.0.0.1 by default (forwarded_allow_ips), whatever TRUSTED_PROXIES says, so it trusts no peer here.
"""
forwarded_allow_ips = ""
secure_scheme_headers: dict = {}
