"""Create the first superadmin when there is none, and print how to log in."""
from django.core.management.base import BaseCommand

from accounts.services import ensure_superadmin
from domains.passwords import generate_password


class Command(BaseCommand):
    help = "Create a first superadmin (with a generated password) if the panel has none."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, username, url, **options):
        password = generate_password()
        admin = ensure_superadmin(username=username, password=password)
        if admin is None:
            self.stdout.write("A superadmin already exists; log in with its credentials.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Created superadmin. Log in at {url} as '{admin.username}' with password: {password}\n"
            "This password is shown only once; change it after logging in."
        ))
