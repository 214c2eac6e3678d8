"""Histories: raw readings → per-meter, per-machine and site interval energy with quality flags."""
