"""Validation of a person's profile: every limit names the field it concerns."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from carecore import validation
from carecore.errors import ValidationFailed
from carecore.people.models import HomeLocation, PersonProfile


def checked_profile(p: PersonProfile, today: date) -> PersonProfile:
    """Returns the profile with text trimmed, or raises ValidationFailed."""
    name = validation.text(p.name, "name", max_len=validation.MAX_NAME, required=True)
    preferred = validation.optional_text(p.preferred_name, "preferredName", max_len=validation.MAX_NAME)
    if p.date_of_birth is not None and not date(1900, 1, 1) <= p.date_of_birth <= today:
        raise ValidationFailed("dateOfBirth must be in the past.", field="dateOfBirth")
    validation.text(p.language, "language", max_len=16, required=True)
    validation.optional_text(p.communication.aac, "communication.aac")
    validation.text(p.communication.distress_signs, "communication.distressSigns")
    validation.text(p.communication.notes, "communication.notes")
    for field, values in (
        ("supportHours", p.support_hours),
        ("allergies", p.allergies),
        ("protocols", p.protocols),
        ("emergencyContacts", p.emergency_contacts),
        ("externalRefs", p.external_refs),
    ):
        validation.items(values, field, max_items=50)
    for w in p.support_hours:
        validation.weekdays(w.weekdays, "supportHours.weekdays")
    for a in p.allergies:
        validation.text(a.substance, "allergies.substance", max_len=validation.MAX_NAME, required=True)
        validation.text(a.reaction, "allergies.reaction")
    for x in p.protocols:
        validation.text(x.instructions, "protocols.instructions", required=True)
        if x.call_emergency_after_minutes is not None:
            validation.in_range(x.call_emergency_after_minutes, "protocols.callEmergencyAfterMinutes", 0, 240)
    for c in p.emergency_contacts:
        validation.text(c.name, "emergencyContacts.name", max_len=validation.MAX_NAME, required=True)
        validation.text(c.relationship, "emergencyContacts.relationship", max_len=validation.MAX_NAME)
        validation.text(c.phone, "emergencyContacts.phone", max_len=32, required=True)
    for r in p.external_refs:
        validation.text(r.service, "externalRefs.service", max_len=validation.MAX_NAME, required=True)
        validation.text(r.reference, "externalRefs.reference", max_len=validation.MAX_NAME, required=True)
    if len(set(p.external_refs)) != len(p.external_refs):
        raise ValidationFailed("externalRefs must not repeat.", field="externalRefs")
    return replace(p, name=name, preferred_name=preferred, home=_checked_home(p.home))


def _checked_home(home: HomeLocation | None) -> HomeLocation | None:
    if home is None:
        return None
    validation.text(home.address, "home.address", max_len=300, required=True)
    validation.in_range(home.latitude, "home.latitude", -90, 90)
    validation.in_range(home.longitude, "home.longitude", -180, 180)
    validation.in_range(home.geofence_radius_m, "home.geofenceRadiusM", 10, 5000)
    return home
