"""Custom Home Assistant integrations shipped by this repository."""
