"""Placeholder: being written (issue 5)."""

from django.http import Http404


def pay(request, **kwargs):
    raise Http404


def razorpay_return(request, **kwargs):
    raise Http404


def record_payment(request, **kwargs):
    raise Http404


def record_refund(request, **kwargs):
    raise Http404


def razorpay_webhook(request, **kwargs):
    raise Http404
