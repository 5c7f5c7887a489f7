"""``python -m cletrial.cli`` runs the command line."""

from cletrial.cli import main

main()
