from django.urls import path

from . import views

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/login/", views.console_login, name="console-login"),
    path("console/logout/", views.console_logout, name="console-logout"),
    path("console/action/", views.console_action, name="console-action"),
    path("console/calls/<int:call_id>/history/", views.console_caller_history, name="console-caller-history"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard/action/", views.wallboard_action, name="wallboard-action"),
]
