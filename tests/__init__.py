"""Tests of pbx-protocols and the pbx Home Assistant integration."""
