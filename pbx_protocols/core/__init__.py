"""Vendor-neutral building blocks shared by every PBX stack."""
