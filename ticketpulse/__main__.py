"""``python -m ticketpulse``: the command line (needs ``pip install "ticketpulse[cli]"``)."""

from ticketpulse._cli import main

if __name__ == "__main__":
    main()
