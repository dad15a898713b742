"""Consultations: pages. One module per part of the journey:

booking   book a slot, cancel, reschedule
pages     the dashboards, a consultation's page, the waiting room, quick actions
calendar  the .ics download
"""
