from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from accounts import views as account_views
from dhanwantari import views

admin.site.site_header = "Dhanwantari staff console"
admin.site.site_title = "Dhanwantari staff"
admin.site.index_title = "Run the service"
# Staff sign in through the same protected sign-in as everyone (lockout, MFA).
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Ours first: they replace allauth's views of the same name.
    path("accounts/signup/doctor/", account_views.doctor_signup, name="account_signup_doctor"),
    re_path(r"^accounts/confirm-email/(?P<key>[-:\w]+)/$", account_views.confirm_email, name="account_confirm_email"),
    # allauth's own pattern takes only [0-9A-Za-z] as the user id; ours have "_".
    re_path(
        r"^accounts/password/reset/key/(?P<uidb36>[0-9A-Za-z_]+)-(?P<key>.+)/$",
        allauth_views.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("patients.urls")),
    path("", include("doctors.urls")),
    path("", include("consultations.urls")),
    path("", include("prescriptions.urls")),
    path("", include("payments.urls")),
    path("", include("records.urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCH_ENDPOINTS:
    # The benchmark's bare one-query page (bench/): only with BENCH_ENDPOINTS=true.
    urlpatterns.append(path("bench/", include("bench.urls")))
