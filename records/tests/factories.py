from __future__ import annotations

import hashlib

import factory
from django.core.files.base import ContentFile

from accounts.tests.factories import PatientUserFactory
from records.models import FileUpload

# The smallest valid PDF a reader accepts; enough for storage tests.
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class FileUploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FileUpload

    patient = factory.SubFactory(PatientUserFactory)
    uploaded_by = factory.LazyAttribute(lambda o: o.patient)
    category = "lab_report"
    file = factory.LazyFunction(lambda: ContentFile(MINIMAL_PDF, name="report.pdf"))
    original_filename = "cbc-report.pdf"
    content_type = "application/pdf"
    size_bytes = len(MINIMAL_PDF)
    sha256 = hashlib.sha256(MINIMAL_PDF).hexdigest()
    ocr_status = "pending"
