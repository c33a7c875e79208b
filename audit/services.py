"""Writing audit entries. Callers run inside their own transaction, so the entry and the
change commit (or roll back) together."""
from __future__ import annotations

import getpass
from typing import Any

from django.db import models

from accounts.models import Admin

from .models import AuditEntry

# Never recorded, whatever the model: hashes are as sensitive as passwords.
SECRET_FIELDS = {"password", "private_key"}


def snapshot(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete field values of `obj`, JSON-ready, without secrets or timestamps."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS or field.name in exclude or field.name in {"created", "modified"}:
            continue
        value = field.value_from_object(obj)
        if isinstance(value, (list, tuple)):
            value = list(value)
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        data[field.attname] = value
    return data


def actor_label_for(actor) -> str:
    if actor is None:
        try:
            return f"cli:{getpass.getuser()}"
        except Exception:  # no user name in a container: still say it was the CLI
            return "cli"
    label = getattr(actor, "audit_label", None)
    return label or actor.get_username()


def _domain_id(domain_name: str) -> int | None:
    """The id of the domain named so right now (in the caller's transaction), None if none."""
    from domains.models import Domain

    if not domain_name:
        return None
    return Domain.objects.filter(name=domain_name).values_list("pk", flat=True).first()


def audit_entry(*, actor, action: str, obj: models.Model | None = None, object_type: str = "",
                object_repr: str = "", domain_name: str = "", domain_id: int | None = None,
                before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """One change as an unsaved entry, for audit_record or a batch's single bulk_create.
    `actor` is an Admin, None for the CLI, or any object with `audit_label`; `domain_id`, when
    the caller knows it, saves looking the domain up by `domain_name`."""
    if before is not None and after is not None:
        # Keep only what changed, so the log reads as a diff.
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    return AuditEntry(
        actor=actor if isinstance(actor, Admin) else None,
        actor_label=actor_label_for(actor)[:320],
        action=action,
        domain_name=domain_name,
        domain_id=domain_id if domain_id is not None else _domain_id(domain_name),
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_repr=(object_repr or str(obj))[:320],
        before=before,
        after=after,
    )


def audit_record(**entry: Any) -> AuditEntry:
    """Record one change (the arguments of audit_entry)."""
    record = audit_entry(**entry)
    record.save()
    return record
