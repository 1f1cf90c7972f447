"""Turns domain events into pushes (FCM) and second-channel alerts."""
