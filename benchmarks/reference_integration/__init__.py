"""A stand-in integration for ``script/benchmark ha``: Home Assistant's own floor.

``pbx_reference`` has the integration's entity model and nothing else: a device per
extension with an ENUM line sensor and a call event entity, the same options, event types,
attributes and unrecorded attributes, and no library, no link and no updates. What Home
Assistant's memory grows by with it is what that entity model costs in Home Assistant
itself; the ``pbx`` integration's growth beyond it is ours.
"""
