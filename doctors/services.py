"""Doctors: services. Sections below belong to: the doctor's own profile,
documents, verification and reviews; the directory and public pages; availability."""

from __future__ import annotations

# === profile, documents, verification, reviews ===============================

# === end profile section =======================================================

# === directory and public pages ================================================

# === end directory section =====================================================

# === availability ================================================================

# === end availability section ====================================================
