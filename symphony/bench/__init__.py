"""``symphony bench AREA``: Symphony and the peers a user would pick, side by side in one
process run, with ratios. Each area is a module here with ``main(argv) -> int``.

Peers come from the ``bench`` extra (``pip install 'symphony[bench]'``); a missing peer is
reported as missing in the table, never silently dropped.
"""
