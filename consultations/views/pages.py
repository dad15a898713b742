"""Placeholder: being written (issue 5)."""

from django.http import Http404


def dashboard(request, **kwargs):
    raise Http404


def detail(request, **kwargs):
    raise Http404


def waiting_room(request, **kwargs):
    raise Http404


def presence(request, **kwargs):
    raise Http404


def transition(request, **kwargs):
    raise Http404
