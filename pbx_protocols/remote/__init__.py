"""Remote sites: a PBX at one site, served to others through an MQTT broker.

``bridge`` publishes one PBX's state, events and call records under a site prefix and
carries out commands; ``client`` is the same client API on the far side of the broker.
``scheme`` is the versioned topic and payload contract between them.
"""
