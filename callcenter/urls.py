from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from routing.media import prompt_audio

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("boards.urls")),
    path("api/v1/", include("callcenter.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
# Prompt audio, always with an audio Content-Type (routing/media.py); a proxy may serve MEDIA_ROOT instead, by
# extension (the names are the server's, with the audio extension of their content).
urlpatterns += [path(f"{settings.MEDIA_URL.strip('/')}/prompts/<path:name>", prompt_audio, name="prompt-audio")]
