from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password"),
    path("page-size/", views.page_size, name="page-size"),
]

# Superadmins manage admin accounts (accounts/admin_views.py).
from . import admin_views  # noqa: E402

urlpatterns += [
    path("admins/", admin_views.admin_list, name="admin-list"),
    path("admins/new/", admin_views.admin_create, name="admin-create"),
    path("admins/<int:pk>/", admin_views.admin_update, name="admin-update"),
    path("admins/<int:pk>/password/", admin_views.admin_set_password, name="admin-password"),
    path("admins/<int:pk>/delete/", admin_views.admin_delete, name="admin-delete"),
]
