"""The taskcat GitHub Action, in Python: install taskcat, run it, report what it did.

The composite steps of ``action.yml`` call ``python -m taskcat_action``:

    install   -> taskcat in its own virtualenv under the runner's tool cache, reused
    run       -> inputs (``inputs``) -> taskcat (``run``), output streamed and grouped
              -> the account id masked in the log and in every file of taskcat_outputs
              -> a step summary, one ``::error::`` per failed stack (``report``)
              -> outputs ``result`` and ``report``; exit 1 when taskcat failed

The package uses only the standard library, so it runs on the runner's own Python before
anything is installed.
"""

__version__ = "0.1.0"
FAILED_MESSAGE = "The taskcat test did not complete successfully."
