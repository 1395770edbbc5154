"""Outside witnesses of the ledger's checkpoints: C2SP tlog-cosignature, tlog-witness and
tlog-policy (cosignatures, the witness service and its client, and witness policies)."""
