"""The district simulation: the production topology on loopback, a school morning, fault drills
and a "nothing lost" ledger (issue 6). Run it as `python -m bench.district`; see __main__.py."""
