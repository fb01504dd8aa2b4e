import sys

from metta.hub.cli import main

if __name__ == "__main__":
    sys.exit(main())
