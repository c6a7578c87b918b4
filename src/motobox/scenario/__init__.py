"""Scenarios: what a file says (``model``), how it is read and checked (``load``, against
``schema/scenario.schema.json`` and botocore's models), what it does to calls (``rules``,
``patch``) and how a run is checked against its ``expect:`` block (``expect``)."""
