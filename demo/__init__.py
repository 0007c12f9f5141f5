"""The demo (``script/demo``) and the Home Assistant harness the benchmarks and tests share.

A real ``hass`` process is configured the way Home Assistant stores its own settings (no
YAML that it would flag), provisioned through its public HTTP and WebSocket APIs as a
person in the browser would, and stopped quickly and completely.
"""
