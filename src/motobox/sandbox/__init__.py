"""What the program sees: its environment (``environment``), its supervisor (``process`` and
``_init``), the egress control for every non-AWS host (``egress``, with the per-run CA in
``ca``), and sealed runs whose only network is motobox (``seal``)."""
