from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from routing.media import prompt_audio
from simulator.web import admin_test_call_view, console_test_call


class FaviconRedirect(RedirectView):
    """/favicon.ico → the project's icon. Its static URL is resolved per request, not when the URLs load: in
    production the manifest storage knows it only once collectstatic has run."""

    permanent = True

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static_url("core/favicon.svg")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/test-call/", admin.site.admin_view(admin_test_call_view), name="admin-test-call"),
    path("admin/", admin.site.urls),
    path("console/test-call/", console_test_call, name="console-test-call"),
    path("", include("boards.urls")),
    path("api/v1/", include("callcenter.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("favicon.ico", FaviconRedirect.as_view()),
]
# Prompt audio, always with an audio Content-Type (routing/media.py); a proxy may serve MEDIA_ROOT instead, by
# extension (the names are the server's, with the audio extension of their content).
urlpatterns += [path(f"{settings.MEDIA_URL.strip('/')}/prompts/<path:name>", prompt_audio, name="prompt-audio")]
