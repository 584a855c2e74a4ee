from django.urls import path

from .admin import default_site, tuned_site

urlpatterns = [path("default/", default_site.urls), path("tuned/", tuned_site.urls)]
