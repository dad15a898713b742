"""Placeholder: being written (issue 5)."""

from django.http import Http404


def book(request, **kwargs):
    raise Http404


def cancel(request, **kwargs):
    raise Http404


def reschedule(request, **kwargs):
    raise Http404
