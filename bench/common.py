"""Timing helpers for the in-process benchmarks (Django test client, server time only)."""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable


def setup_django() -> None:
    """Make the project importable and configure Django (benchmarks run as plain scripts)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings_test")
    import django

    django.setup()


def measure(label: str, call: Callable[[], object], runs: int = 50, warmup: int = 3) -> dict:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    ordered = sorted(times)
    result = {"label": label, "runs": runs, "median_ms": round(statistics.median(times), 2),
              "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
              "max_ms": round(ordered[-1], 2)}
    print(f"{label:55} median {result['median_ms']:8.2f} ms   p95 {result['p95_ms']:8.2f} ms")
    return result


def superadmin_client():
    from django.test import Client

    from accounts.models import Admin

    admin, _created = Admin.objects.get_or_create(username="bench-superadmin", defaults={"role": "superadmin"})
    client = Client()
    client.force_login(admin)
    return client


class SeededSite:
    """The 100,000-mailbox dataset, a logged-in superadmin client and the big domain's id."""

    def __init__(self):
        import argparse

        from bench.seed import BIG_DOMAIN, seed
        from domains.models import Domain

        parser = argparse.ArgumentParser()
        parser.add_argument("--runs", type=int, default=50)
        self.runs = parser.parse_known_args()[0].runs   # a script may take its own options too
        print("seeding:", seed(1000, 100_000, 20_000, force=True))
        self.client = superadmin_client()
        self.big_domain = BIG_DOMAIN
        self.big = Domain.objects.get(name=BIG_DOMAIN).pk

    def get(self, url: str, **headers):
        response = self.client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        return response
