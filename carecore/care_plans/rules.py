"""Validation of a plan's content."""

from __future__ import annotations

from datetime import date

from carecore import validation
from carecore.care_plans.models import PlanContent
from carecore.errors import ValidationFailed


def check_content(c: PlanContent, today: date) -> None:
    """Raises ValidationFailed naming the first field that breaks a rule."""
    validation.text(c.summary, "summary")
    validation.items(c.goals, "goals", max_items=50)
    validation.items(c.tasks, "tasks", max_items=100)
    validation.items(c.risk_protocols, "riskProtocols", max_items=20)
    if c.review_date is not None and c.review_date < today:
        raise ValidationFailed("reviewDate must not be in the past.", field="reviewDate")
    for g in c.goals:
        validation.text(g.description, "goals.description", required=True)
        validation.text(g.measure, "goals.measure", required=True)
    for t in c.tasks:
        validation.text(t.title, "tasks.title", max_len=validation.MAX_NAME, required=True)
        validation.text(t.instructions, "tasks.instructions")
        validation.weekdays(t.schedule.weekdays, "tasks.schedule.weekdays")
        if t.schedule.every_hours is not None:
            validation.in_range(t.schedule.every_hours, "tasks.schedule.everyHours", 1, 24)
        if not t.schedule.times_of_day and t.schedule.every_hours is None:
            raise ValidationFailed("A task needs timesOfDay or everyHours.", field="tasks.schedule")
        validation.items(t.schedule.times_of_day, "tasks.schedule.timesOfDay", max_items=24)
    ids = [g.id for g in c.goals] + [t.id for t in c.tasks]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Goal and task ids must be unique within a plan.", field="tasks")
    types = [r.incident_type for r in c.risk_protocols]
    if len(set(types)) != len(types):
        raise ValidationFailed("One risk protocol per incident type.", field="riskProtocols")
    for r in c.risk_protocols:
        validation.text(r.instructions, "riskProtocols.instructions", required=True)
