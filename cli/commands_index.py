"""Which module adds each top-level command, and the line ``custodes --help`` shows for it.

``custodes --help`` and a mistyped command name answer from this table alone, without
importing SQLAlchemy, eventsourcing, OpenCV or the ledger (issue 16: a command line that
answers at once). A command's module is imported only when that command runs or its own
help is asked for. ``tests/cli/test_lazy_commands.py`` imports every module and checks
that this table names every command, the module that adds it and its summary line, so a
new command cannot be forgotten here.
"""

from __future__ import annotations

# Not a module: the ``custodes.commands`` entry points other packages (the web dashboard)
# add, loaded without the command line importing those packages.
PLUGINS = "@entry-points"

# name -> (the modules whose ``register()`` must have run for the command to be whole,
#          the first paragraph of its help)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "backup": (
        ("backup",),
        "Write a consistent, verified and signed snapshot of the ledger to one file.",
    ),
    "camera": (("camera",), "Cameras: where they are, their zone, signage attested (R12)."),
    "checkpoint": (
        ("proofs",),
        "Verify the ledger and sign its Merkle tree head (C2SP signed-note checkpoint).",
    ),
    "clock": (
        ("clock_cmd",),
        "This host's clock against the ledger's last recorded act, and the Director's "
        "correction when a clock set ahead blocks every act (R26).",
    ),
    "demo": (
        ("demo",),
        "Record a month at a small library on the embedded SQLite, then report on it.",
    ),
    "footage": (("footage", "export"), "Footage segments: ingest, list, flag, hold, view."),
    "history": (
        ("reports",),
        "Every event about one subject, in ledger order, for legal review: chain position, "
        "event number, kind, actor and role, recorded time, claimed time and a summary.",
    ),
    "init": (
        ("ledger_cmds",),
        "Create a new ledger in the data directory, with its keys and first Director.",
    ),
    "keys": (("proofs",), "The site's public signing key."),
    "log": (("ledger_cmds",), "Events oldest first, a page at a time: when, what kind, by whom."),
    "login": (
        ("staff",),
        "Sign in: your passphrase unlocks your key for a few minutes (like sudo), for this "
        "OS user and terminal session; then commands need no --as.",
    ),
    "logout": (("staff",), "Sign out: shred this session's unlocked key."),
    "patron": (
        ("request",),
        "Patrons (stored as pseudonyms; details encrypted under a per-patron key).",
    ),
    "serve": (
        (PLUGINS,),
        "The Director's desk in a browser: sign in with your staff passphrase.",
    ),
    "totp": (
        (PLUGINS,),
        "The optional second factor for the web dashboard: one-time codes (an authenticator "
        "app) after the passphrase.",
    ),
    "policy": (("policy",), "The policy in force: adopted versions every decision cites (R28)."),
    "projections": (("footage",), "Read models (retention state, access log, refusals, ...)."),
    "prove": (
        ("proofs",),
        "Inclusion proof that event #EVENT (as numbered by `custodes log`) is in the ledger, "
        "or with --consistency, proof that the ledger still extends an older checkpoint.",
    ),
    "report": (
        ("report", "reports", "footage", "request"),
        "Reports for the Director, the board and machines.",
    ),
    "request": (
        ("request",),
        "Disclosure requests: intake, legal basis, the Director's decision, release.",
    ),
    "restore": (
        ("backup",),
        "Restore a backup into a new data directory, checking everything first.",
    ),
    "retention": (
        ("footage",),
        "Retention: purge what is due, and the Director's retention settings.",
    ),
    "rules": (
        ("rules_cmd",),
        "Every rule id a refusal or report cites: its source and what it means.",
    ),
    "staff": (("staff",), "Staff members, their roles and their signing keys."),
    "status": (("status_cmd",), "Where the ledger lives and how big it is."),
    "verify": (
        ("ledger_cmds",),
        "Verify the whole hash chain and every signed act (no key needed). Exit 3 if it was "
        "tampered with.",
    ),
    "verify-export": (
        ("export",),
        "Check an evidence package or a disclosure record: hashes, signatures, and its "
        "inclusion proof.",
    ),
    "verify-proof": (
        ("proofs",),
        "Check a proof.json from `custodes prove`: an inclusion proof (this event is in "
        "the signed ledger) or a consistency proof (the newer checkpoint extends the older).",
    ),
    "verify-report": (
        ("report_verify",),
        "Check every row of a report's JSON (report compliance --format json, report "
        "disclosures --json --prove) against the report's signed checkpoint: each row's log "
        "entries, their digests and inclusion proofs. Needs no ledger, only the library's "
        "public key. Exit 0 when it checks out, 3 when a row, proof or signature fails.",
    ),
    "whoami": (("staff",), "Who is signed in in this session, and until when."),
    "witness": (
        ("witness",),
        "Be a witness: cosign another ledger's checkpoints after checking that each one "
        "extends the last you cosigned (C2SP tlog-witness, cosignature/v1).",
    ),
}

# Every module with a ``register(group)``, in the order the full command line loads them.
MODULES = tuple(dict.fromkeys(m for modules, _ in COMMANDS.values() for m in modules))
