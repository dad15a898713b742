from django.urls import path

from consultations.views import booking, calendar, intake, pages, room

app_name = "consultations"

urlpatterns = [
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("doctors/<str:profile_id>/book/", booking.book, name="book"),
    path("consultations/<str:consultation_id>/", pages.detail, name="detail"),
    path("consultations/<str:consultation_id>/cancel/", booking.cancel, name="cancel"),
    path("consultations/<str:consultation_id>/reschedule/", booking.reschedule, name="reschedule"),
    path("consultations/<str:consultation_id>/waiting-room/", pages.waiting_room, name="waiting_room"),
    path("consultations/<str:consultation_id>/presence/", pages.presence, name="presence"),
    path("consultations/<str:consultation_id>/status/", pages.transition, name="transition"),
    path("consultations/<str:consultation_id>/calendar.ics", calendar.ics, name="ics"),
    path("consultations/<str:consultation_id>/room/", room.room, name="room"),
    path("consultations/<str:consultation_id>/room/attachments/", room.attachment, name="room_attachment"),
    path("assistant/", intake.start, name="intake_start"),
    path("assistant/<str:consultation_id>/resume/", intake.resume, name="intake_resume"),
    path("assistant/<str:consultation_id>/book-a-doctor/", intake.handoff, name="intake_handoff"),
    path("assistant/<str:consultation_id>/transcript/", intake.transcript, name="intake_transcript"),
]
