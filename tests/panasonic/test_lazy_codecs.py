"""asn1tools' codecs that CSTA does not use stay unexecuted until something uses them."""

from __future__ import annotations

import json
import subprocess
import sys

from pbx_protocols.panasonic.lazy_codecs import UNUSED_CODECS

#: A systemStatus invoke, the first PDU a client decodes.
FIRST_PDU = "a10c020101020200d330030a0102"


def run_fresh(code: str) -> object:
    """Run ``code`` in a fresh interpreter (asn1tools not yet imported); its JSON output."""
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def test_decoding_executes_no_unused_codec():
    executed = run_fresh(
        "import json, sys, types;"
        "from pbx_protocols.panasonic.codec import decode_pdu;"
        f"pdu = decode_pdu(bytes.fromhex('{FIRST_PDU}'));"
        "assert pdu.argument == {'systemStatus': 'normal'}, pdu;"
        "print(json.dumps(sorted(name.rsplit('.', 1)[1] for name, module in sys.modules.items()"
        " if name.startswith('asn1tools.codecs.') and type(module) is types.ModuleType)))"
    )
    assert isinstance(executed, list)
    assert "ber" in executed
    assert not set(UNUSED_CODECS) & set(executed), executed


def test_a_deferred_codec_still_works_when_used():
    """Someone else's code in the same process may use PER or JER: it must not notice."""
    encoded = run_fresh(
        "import json, asn1tools, pbx_protocols.panasonic.codec;"
        "per = asn1tools.compile_string('A DEFINITIONS ::= BEGIN X ::= BMPString END', 'per');"
        "jer = asn1tools.compile_string('A DEFINITIONS ::= BEGIN X ::= INTEGER END', 'jer');"
        "print(json.dumps([per.encode('X', 'hi').hex(), jer.encode('X', 5).decode()]))"
    )
    assert encoded == ["0200680069", "5"]
