"""The cloud's request path: a call arrives (``transport``), the gateway reads its body,
``identify`` names it from botocore's models, the scenario's rules may answer it, moto (or a
remote moto) answers it, and the journal records it. ``wire`` writes and reads answers in
every AWS wire protocol."""
