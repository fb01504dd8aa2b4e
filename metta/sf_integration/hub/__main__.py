import sys

from metta.sf_integration.hub.cli import main

if __name__ == "__main__":
    sys.exit(main())
