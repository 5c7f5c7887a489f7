"""``python -m cletrial`` runs the command line."""

from cletrial.cli import main

main()
