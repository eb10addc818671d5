"""Build every handout and deck for every practice: `python build.py --help`."""
from clinicpress.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
