"""Benchmarks for the budgets in PRODUCT.md. They measure and print; they assert nothing."""
