"""Alerts: rules, a pure evaluation, the engine in the API process, notifications."""
