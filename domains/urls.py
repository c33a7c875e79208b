from django.urls import path

from . import views

app_name = "domains"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("domains/", views.domain_list, name="domain-list"),
    path("domains/new/", views.domain_create, name="domain-create"),
    path("domains/<int:pk>/", views.domain_detail, name="domain-detail"),
    path("domains/<int:pk>/edit/", views.domain_update, name="domain-update"),
    path("domains/<int:pk>/active/", views.domain_set_active, name="domain-set-active"),
    path("domains/<int:pk>/delete/", views.domain_delete, name="domain-delete"),
    path("domains/<int:domain_pk>/mailboxes/", views.mailbox_list, name="domain-mailbox-list"),
    path("domains/<int:domain_pk>/mailboxes/new/", views.mailbox_create, name="mailbox-create"),
    path("domains/<int:domain_pk>/mailboxes/check/", views.mailbox_address_check, name="mailbox-address-check"),
    path("mailboxes/", views.mailbox_list, name="mailbox-list"),
    path("mailboxes/<int:pk>/edit/", views.mailbox_update, name="mailbox-update"),
    path("mailboxes/<int:pk>/password/", views.mailbox_password, name="mailbox-password"),
    path("mailboxes/<int:pk>/active/", views.mailbox_set_active, name="mailbox-set-active"),
    path("mailboxes/<int:pk>/delete/", views.mailbox_delete, name="mailbox-delete"),
]

# Aliases, forwarding and alias domains (domains/alias_views.py).
from . import alias_views  # noqa: E402

urlpatterns += [
    path("aliases/", alias_views.alias_list, name="alias-list"),
    path("aliases/new/", alias_views.alias_create, name="alias-create"),
    path("aliases/check/", alias_views.alias_address_check, name="alias-address-check"),
    path("aliases/<int:pk>/edit/", alias_views.alias_update, name="alias-update"),
    path("aliases/<int:pk>/active/", alias_views.alias_set_active, name="alias-set-active"),
    path("aliases/<int:pk>/delete/", alias_views.alias_delete, name="alias-delete"),
    path("domains/<int:domain_pk>/aliases/", alias_views.alias_list, name="domain-alias-list"),
    path("mailboxes/<int:pk>/forwarding/", alias_views.mailbox_forwarding, name="mailbox-forwarding"),
    path("alias-domains/", alias_views.alias_domain_list, name="aliasdomain-list"),
    path("alias-domains/new/", alias_views.alias_domain_create, name="aliasdomain-create"),
    path("alias-domains/<int:pk>/approve/", alias_views.alias_domain_approve, name="aliasdomain-approve"),
    path("alias-domains/<int:pk>/active/", alias_views.alias_domain_set_active, name="aliasdomain-set-active"),
    path("alias-domains/<int:pk>/delete/", alias_views.alias_domain_delete, name="aliasdomain-delete"),
]
