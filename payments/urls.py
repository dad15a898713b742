from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("consultations/<str:consultation_id>/pay/", views.pay, name="pay"),
    path("consultations/<str:consultation_id>/pay/razorpay/", views.razorpay_return, name="razorpay_return"),
    path("consultations/<str:consultation_id>/payment/record/", views.record_payment, name="record_payment"),
    path("consultations/<str:consultation_id>/refund/record/", views.record_refund, name="record_refund"),
    path("payments/razorpay/webhook/", views.razorpay_webhook, name="razorpay_webhook"),
]
