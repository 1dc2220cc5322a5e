"""Intake's HTTP surface: citizens' channels, the situation board, operators' actions, alerts."""
