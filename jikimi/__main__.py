"""``python -m jikimi``: the same command as ``jikimi``."""

from jikimi.cli import main

if __name__ == "__main__":
    main()
