"""custodes serve: the Director's desk in a browser (issue 17).

A Flask application on the same application layer as the command line: every page calls
the ledger's use-cases and the projections, nothing of the policy is decided here. Each
act is signed with the key of the member signed in to the browser session, unlocked by
their passphrase at sign-in and held in this process's memory only.
"""
