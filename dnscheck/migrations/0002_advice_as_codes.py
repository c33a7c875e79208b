"""DNS advice stored as message ids and parameters instead of text in one language.

Existing results are converted back to codes where their text is a sequence of known
sentences (in English or French, from the catalogue); text that is not (a sentence since
reworded) is kept as legacy text and shown as it was until the domain is checked again.
"""
import re

from django.db import migrations, models
from django.utils.translation import trans_real

from dnscheck.advice import render

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _patterns():
    """(regex, msgid) for every catalogue sentence with its English and French wording."""
    catalog = trans_real.translation("fr")._catalog
    patterns = []
    for msgid, msgstr in catalog.items():
        if not isinstance(msgid, str) or not msgid or not msgid.endswith((".", ")", "”")):
            continue
        for text in {msgid, str(msgstr)}:
            names, pieces, last = [], [], 0
            for match in PLACEHOLDER.finditer(text):
                pieces.append(re.escape(text[last:match.start()]))
                if match.group(1) in names:
                    pieces.append(f"(?P={match.group(1)})")
                else:
                    names.append(match.group(1))
                    pieces.append(f"(?P<{match.group(1)}>.+?)")
                last = match.end()
            pieces.append(re.escape(text[last:]))
            patterns.append((re.compile("".join(pieces) + r"(?= |$)"), msgid))
    # Longest first: a sentence that starts like a shorter one must win.
    patterns.sort(key=lambda p: -len(p[0].pattern))
    return patterns


def _parse(text, patterns):
    """The explanation as advice dicts, or None when some part is not a known sentence."""
    advice, position = [], 0
    while position < len(text):
        for pattern, msgid in patterns:
            match = pattern.match(text, position)
            if match:
                params = {k: (int(v) if v.isdigit() else v) for k, v in match.groupdict().items()}
                advice.append({"msgid": msgid, "params": params})
                position = match.end() + 1
                break
        else:
            return None
    return advice


def to_codes(apps, schema_editor):
    DnsCheckResult = apps.get_model("dnscheck", "DnsCheckResult")
    patterns = None
    for result in DnsCheckResult.objects.exclude(explanation="").iterator():
        if patterns is None:
            patterns = _patterns()
        result.advice = _parse(result.explanation, patterns) or [{"text": result.explanation}]
        result.save(update_fields=["advice"])


def to_text(apps, schema_editor):
    DnsCheckResult = apps.get_model("dnscheck", "DnsCheckResult")
    for result in DnsCheckResult.objects.exclude(advice=[]).iterator():
        result.explanation = render(result.advice)
        result.save(update_fields=["explanation"])


class Migration(migrations.Migration):

    dependencies = [
        ("dnscheck", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dnscheckresult",
            name="advice",
            field=models.JSONField(blank=True, default=list, verbose_name="advice"),
        ),
        migrations.RunPython(to_codes, to_text),
        migrations.RemoveField(
            model_name="dnscheckresult",
            name="explanation",
        ),
    ]
