from django.urls import path

from vacation import views as vacation_views

from . import mailuser_views as views

app_name = "mailuser"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password, name="password"),
    path("forwarding/", views.forwarding, name="forwarding"),
    path("vacation/", vacation_views.me_vacation, name="vacation"),
]
