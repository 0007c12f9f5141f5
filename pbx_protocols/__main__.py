"""``python -m pbx_protocols`` runs the command line."""

from .cli import main

main()
