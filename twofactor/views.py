from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Admin

from . import services
from .forms import CodeForm


def _admin_or_404(request) -> Admin:
    from django.http import Http404

    if not isinstance(request.user, Admin):
        raise Http404
    return request.user


@require_http_methods(["GET"])
def status(request):
    admin = _admin_or_404(request)
    return render(request, "twofactor/status.html", {"enabled": services.has_two_factor(admin)})


@require_http_methods(["GET", "POST"])
def setup(request):
    admin = _admin_or_404(request)
    try:
        device = TOTPDevice.objects.filter(user=admin, confirmed=False).first()
        if device is None or request.method == "GET":
            device = services.totp_start_enrolment(admin=admin)
        form = CodeForm(request.POST or None)
        codes = None
        if request.method == "POST" and form.is_valid():
            codes = services.totp_confirm(device=device, token=form.cleaned_data["code"])
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("twofactor:status")
    if request.method == "POST" and form.is_valid():
        if codes is not None:
            otp_login(request, services.confirmed_totp(admin))
            return render(request, "twofactor/backup_codes.html", {"codes": codes})
        form.add_error("code", _("This code is not valid. Check the time on your phone and type the current code."))
    return render(request, "twofactor/setup.html", {"form": form, **services.provisioning(device)})


@require_http_methods(["GET", "POST"])
def verify(request):
    admin = _admin_or_404(request)
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.throttled(admin):
            form.add_error("code", _("Too many wrong codes: wait a little before trying again."))
        else:
            device = services.verify_any(admin=admin, token=form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(next_url)
            form.add_error("code", _("This code is not valid."))
    return render(request, "twofactor/verify.html", {"form": form, "next": next_url})


@require_http_methods(["POST"])
def backup_codes(request):
    """New backup codes replace the old ones; a current code (TOTP or backup) is required."""
    admin = _admin_or_404(request)
    if not services.has_two_factor(admin):
        return redirect("twofactor:status")
    form = CodeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give a current code to get new backup codes."), code="required")
        services.check_current_code(admin=admin, token=form.cleaned_data["code"])
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("twofactor:status")
    return render(request, "twofactor/backup_codes.html", {"codes": services.regenerate_backup_codes(admin=admin)})


@require_http_methods(["POST"])
def disable(request):
    admin = _admin_or_404(request)
    form = CodeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give a current code to turn two-factor authentication off."), code="required")
        services.check_current_code(admin=admin, token=form.cleaned_data["code"])
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        services.two_factor_disable(admin=admin, acting_user=admin)
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("twofactor:status")
