"""Who may enter which pages: one guard per role, for views and class-based views.

An anonymous visitor is sent to sign in; a signed-in person of the wrong role
gets 403 (the page exists, it is not theirs).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.models import Role, User


def is_patient(user: User) -> bool:
    return user.is_authenticated and user.role == Role.PATIENT


def is_doctor(user: User) -> bool:
    return user.is_authenticated and user.role == Role.DOCTOR


def is_verified_doctor(user: User) -> bool:
    from doctors.models import DoctorProfile, VerificationStatus

    return (
        is_doctor(user)
        and DoctorProfile.objects.filter(user=user, verification_status=VerificationStatus.VERIFIED).exists()
    )


def is_staff(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


# Reading clinical records (notes, case, medical files, prescriptions); made on
# post_migrate by accounts.roles, so no model's Meta has to carry it.
VIEW_CLINICAL = "consultations.view_clinical"


def is_clinical_staff(user: User) -> bool:
    """Staff who may read clinical records (the Administrator role; Support may not)."""
    return is_staff(user) and user.has_perm(VIEW_CLINICAL)


def _role_required(check: Callable[[User], bool]):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


patient_required = _role_required(is_patient)
doctor_required = _role_required(is_doctor)
verified_doctor_required = _role_required(is_verified_doctor)
staff_required = _role_required(is_staff)


class _RoleRequiredMixin(LoginRequiredMixin):
    role_check: Callable[[User], bool]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not type(self).role_check(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class PatientRequiredMixin(_RoleRequiredMixin):
    role_check = staticmethod(is_patient)


class DoctorRequiredMixin(_RoleRequiredMixin):
    role_check = staticmethod(is_doctor)


class VerifiedDoctorRequiredMixin(_RoleRequiredMixin):
    role_check = staticmethod(is_verified_doctor)


class StaffRequiredMixin(_RoleRequiredMixin):
    role_check = staticmethod(is_staff)
