"""Reachability (고독사 예방): wellness-call schedules and outcomes, passive signs of life, and one state per
person that escalates from AI calls to a human call, a visit and a NO_RESPONSE incident."""
